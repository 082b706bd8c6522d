// Collects the outcome of named checks into a JSON-safe object, so that the answers of two runtimes
// can be compared key by key. A check that throws records the error's name, code and message.

/** Turns `value` into something JSON.stringify keeps exactly (no undefined, bigint, bytes lost). */
export function plain(value) {
  if (value === undefined) return "<undefined>";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return `<${String(value)}>`;
  if (typeof value === "function") return `<function ${value.name}>`;
  if (typeof value === "number" && !Number.isFinite(value)) return `<${value}>`;
  if (Object.is(value, -0)) return "<-0>";
  if (value instanceof Error) return failure(value);
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return `<${value.constructor.name} ${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}>`;
  }
  if (value instanceof ArrayBuffer) return plain(new Uint8Array(value));
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

/** What is compared of an error: never its stack. */
export function failure(error) {
  if (!(error instanceof Error)) return { thrown: plain(error) };
  return { error: error.name, code: error.code ?? null, message: error.message };
}

/** How long one check may take before it is recorded as hanging, so that one check that never
 * settles costs its own answer and not the whole path's. */
const CHECK_MS = 3000;

/** `promise`, or a "<hangs>" answer once it has not settled within CHECK_MS. */
function bounded(promise) {
  let timer;
  const hangs = new Promise((resolve) => (timer = setTimeout(() => resolve(`<hangs: not settled in ${CHECK_MS} ms>`), CHECK_MS)));
  return Promise.race([promise, hangs]).finally(() => clearTimeout(timer));
}

/** Runs the checks of `table` ({ name: () => value | Promise<value> }) one after the other. */
export async function run(table) {
  const answer = {};
  for (const [name, check] of Object.entries(table)) {
    try {
      answer[name] = plain(await bounded(new Promise((resolve) => resolve(check()))));
    } catch (error) {
      answer[name] = failure(error);
    }
  }
  return answer;
}
