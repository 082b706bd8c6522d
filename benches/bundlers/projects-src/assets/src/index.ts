// Bench project: module rules' defaults: a .txt inlined as text, a .bin copied beside the bundle.
import note from "./note.txt";
import data from "./data.bin";
export default { fetch: () => new Response(`${note.trim()} ${String(data)}`) };
