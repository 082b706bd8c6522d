//! Compacts the extension JavaScript that goes into the startup snapshot: comments and
//! indentation out, one statement per line, the code itself unchanged.
//!
//! QuickJS keeps the source text of every function it compiles (for
//! `Function.prototype.toString`), a class's whole text again with its constructor, and the
//! snapshot carries all of it into every isolate: before this, retained source was about
//! three quarters of the Web API functions' memory (benches/RESULTS.md, the heap table).
//! Parsing and printing go through swc, the parser the node already uses for TypeScript;
//! the printer's line per statement (rather than its one-line minified form) keeps QuickJS's
//! column bookkeeping linear.

use deno_core::ModuleCodeString;
use deno_core::ModuleName;
use deno_core::SourceMapData;
use deno_error::JsErrorBox;
use swc_common::sync::Lrc;
use swc_common::FileName;
use swc_common::SourceMap;
use swc_ecma_codegen::text_writer::JsWriter;
use swc_ecma_codegen::Config;
use swc_ecma_codegen::Emitter;
use swc_ecma_parser::Parser;
use swc_ecma_parser::StringInput;
use swc_ecma_parser::Syntax;

/// The `extension_transpiler` of the snapshot build: `source` compacted, or as it was when
/// swc cannot parse it (a warning names the file; the snapshot is still correct).
pub fn transpile(
  specifier: ModuleName,
  source: ModuleCodeString,
) -> Result<(ModuleCodeString, Option<SourceMapData>), JsErrorBox> {
  match compact(&specifier, source.as_str()) {
    Ok(text) => Ok((text.into(), None)),
    Err(why) => {
      println!("cargo:warning=left {specifier} as it is: {why}");
      Ok((source, None))
    }
  }
}

fn compact(name: &str, source: &str) -> Result<String, String> {
  let map: Lrc<SourceMap> = Default::default();
  let file = map.new_source_file(Lrc::new(FileName::Custom(name.to_string())), source.to_string());
  let mut parser = Parser::new(Syntax::Es(Default::default()), StringInput::from(&*file), None);
  let program = parser.parse_program().map_err(|e| format!("{:?}", e.kind()))?;
  if let Some(e) = parser.take_errors().into_iter().next() {
    return Err(format!("{:?}", e.kind()));
  }
  let mut out = Vec::with_capacity(source.len());
  {
    let mut writer = JsWriter::new(map.clone(), "\n", &mut out, None);
    writer.set_indent_str("");
    let mut emitter = Emitter { cfg: Config::default(), cm: map.clone(), comments: None, wr: writer };
    emitter.emit_program(&program).map_err(|e| e.to_string())?;
  }
  String::from_utf8(out).map_err(|e| e.to_string())
}
