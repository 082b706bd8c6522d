// node:dns/promises: an edge worker resolves no names itself (fetch() does). Every export
// Node 20 has: the error codes as data, the default result order kept (node:dns shares it),
// the lookups rejecting (node:internal/unsupported).

import { dns as codes } from "node:internal/constants";
import { unsupported, unsupportedModule } from "node:internal/unsupported";

let resultOrder = "verbatim";

// Without the lookup flags (ADDRCONFIG, ALL, V4MAPPED), which only node:dns has.
const { ADDRCONFIG: _addrconfig, ALL: _all, V4MAPPED: _v4mapped, ...errorCodes } = codes;
const values = {
  ...errorCodes,
  // The two that return no promise.
  getServers: unsupported("dns/promises", "getServers"),
  setServers: unsupported("dns/promises", "setServers"),
  getDefaultResultOrder() {
    return resultOrder;
  },
  setDefaultResultOrder(order) {
    if (order !== "verbatim" && order !== "ipv4first") {
      const error = new TypeError(
        `The argument 'order' must be one of: 'verbatim', 'ipv4first'. Received '${order}'`,
      );
      error.code = "ERR_INVALID_ARG_VALUE";
      throw error;
    }
    resultOrder = order;
  },
};
const promises = unsupportedModule("dns/promises", values, { promises: true });
export const {
  lookup, lookupService, Resolver, getDefaultResultOrder, setDefaultResultOrder, setServers, NODATA, FORMERR,
  SERVFAIL, NOTFOUND, NOTIMP, REFUSED, BADQUERY, BADNAME, BADFAMILY, BADRESP, CONNREFUSED, TIMEOUT, EOF, FILE,
  NOMEM, DESTRUCTION, BADSTR, BADFLAGS, NONAME, BADHINTS, NOTINITIALIZED, LOADIPHLPAPI, ADDRGETNETWORKPARAMS,
  CANCELLED, getServers, resolve, resolve4, resolve6, resolveAny, resolveCaa, resolveCname, resolveMx,
  resolveNaptr, resolveNs, resolvePtr, resolveSoa, resolveSrv, resolveTxt, reverse,
} = promises.names;
export default promises.exports;
