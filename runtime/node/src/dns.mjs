// node:dns: an edge worker resolves no names itself (fetch() does). Every export Node 20 has:
// the error codes and lookup flags as data, the default result order kept (shared with
// node:dns/promises, which is `promises`), the rest throwing when used
// (node:internal/unsupported).

import { dns as codes } from "node:internal/constants";
import { unsupportedModule } from "node:internal/unsupported";
import dnsPromises from "node:dns/promises";

const dns = unsupportedModule("dns", {
  ...codes,
  getDefaultResultOrder: dnsPromises.getDefaultResultOrder,
  setDefaultResultOrder: dnsPromises.setDefaultResultOrder,
  promises: dnsPromises,
});
export const {
  lookup, lookupService, Resolver, getDefaultResultOrder, setDefaultResultOrder, setServers, ADDRCONFIG, ALL,
  V4MAPPED, NODATA, FORMERR, SERVFAIL, NOTFOUND, NOTIMP, REFUSED, BADQUERY, BADNAME, BADFAMILY, BADRESP,
  CONNREFUSED, TIMEOUT, EOF, FILE, NOMEM, DESTRUCTION, BADSTR, BADFLAGS, NONAME, BADHINTS, NOTINITIALIZED,
  LOADIPHLPAPI, ADDRGETNETWORKPARAMS, CANCELLED, getServers, resolve, resolve4, resolve6, resolveAny,
  resolveCaa, resolveCname, resolveMx, resolveNaptr, resolveNs, resolvePtr, resolveSoa, resolveSrv,
  resolveTxt, reverse, promises,
} = dns.names;
export default dns.exports;
