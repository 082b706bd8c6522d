//! Builds every `.wasm` under `sample-workers/` and `tests/fixtures/` from the `.wat` source
//! beside it: `cargo run -p edge-tests --bin build-wasm`. The `wasm_sources` test checks
//! that the committed binaries match their sources.

fn main() -> anyhow::Result<()> {
  for (wat, wasm) in edge_tests::wat_sources() {
    let bytes = wat::parse_file(&wat)?;
    std::fs::write(&wasm, bytes)?;
    println!("{} -> {}", wat.display(), wasm.display());
  }
  Ok(())
}
