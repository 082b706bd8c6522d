// node:net: sockets come with a later release. Every export Node 20 has: isIP, isIPv4 and
// isIPv6 work, the auto-select-family settings are kept (and change nothing yet), the rest
// throws `node:net.connect is not supported yet` (node:internal/unsupported).

import { NO_SOCKETS_YET, unsupportedModule } from "node:internal/unsupported";

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);

function testIPv4(input) {
  return IPV4.test(`${input}`);
}

function testIPv6(input) {
  // An optional zone (`%eth0`) after an address the WHATWG host parser takes in brackets.
  const [address, zone] = `${input}`.split(/%(.*)/s);
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(":")) return false;
  if (zone !== undefined && !/^[0-9a-zA-Z\-.:]+$/.test(zone)) return false;
  try {
    new URL(`http://[${address}]/`);
    return true;
  } catch {
    return false;
  }
}

let autoSelectFamily = true;
let autoSelectFamilyAttemptTimeout = 250;

const net = unsupportedModule(
  "net",
  {
    isIP(input) {
      if (testIPv4(input)) return 4;
      if (testIPv6(input)) return 6;
      return 0;
    },
    isIPv4(input) {
      return testIPv4(input);
    },
    isIPv6(input) {
      return testIPv6(input);
    },
    getDefaultAutoSelectFamily: () => autoSelectFamily,
    setDefaultAutoSelectFamily(value) {
      autoSelectFamily = Boolean(value);
    },
    getDefaultAutoSelectFamilyAttemptTimeout: () => autoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout(value) {
      // Node takes at least 10 ms.
      autoSelectFamilyAttemptTimeout = Math.max(10, Number(value));
    },
  },
  { reason: NO_SOCKETS_YET },
);
export const {
  _createServerHandle, _normalizeArgs, _setSimultaneousAccepts, BlockList, SocketAddress, connect,
  createConnection, createServer, isIP, isIPv4, isIPv6, Server, Socket, Stream, getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
} = net.names;
export default net.exports;
