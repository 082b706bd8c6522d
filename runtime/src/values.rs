//! A response's header list as it crosses from JavaScript to Rust, each string read once.
//!
//! serde_v8's `ByteString` asks the engine separately whether a string is one-byte, for its
//! length, and for its contents. On the QuickJS engine each of those questions converts the
//! whole string (to UTF-8, then UTF-16, then bytes), so every header name and value was
//! converted three times. Here each is written once as UTF-8 into a buffer the thread
//! reuses, and checked from that. The same calls are what V8 offers, so the V8 build loses
//! nothing. (A text body keeps deno_core's `#[string]`: v8x's `WriteUtf8_v2` copies byte by
//! byte, which costs more than the conversion it saves on a body of kilobytes.)
//!
//! This file is compiled into `build.rs` too (the ops use it), so it depends only on crates
//! the build script has.

use std::cell::RefCell;

use deno_core::v8;
use deno_core::ByteString;
use deno_error::JsErrorBox;

/// The largest scratch buffer a thread keeps between strings.
const SCRATCH_KEPT: usize = 256 * 1024;

thread_local! {
  /// The buffer header strings are written into. It keeps the largest size it was grown to
  /// (up to `SCRATCH_KEPT`; all of it initialised, so writing needs no unsafe code), so that
  /// nearly every string is written in one pass.
  static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; 1024]);
}

/// Calls `read` with the UTF-8 of `string` (lone surrogates replaced by U+FFFD, as a
/// `USVString` is).
fn with_utf8<T>(scope: &v8::Isolate, string: &v8::String, read: impl FnOnce(&[u8]) -> T) -> T {
  SCRATCH.with(|scratch| {
    let mut buffer = scratch.borrow_mut();
    let mut written = string.write_utf8_v2(scope, &mut buffer, v8::WriteFlags::kReplaceInvalidUtf8, None);
    // The engine stops only before a character that would not fit, and none is longer than
    // four bytes: with four bytes to spare, nothing was left out.
    if written + 4 > buffer.len() {
      // Perhaps not all of it: ask for the exact length (one more pass) and write again,
      // into a buffer of its own when it is too large to keep.
      let length = string.utf8_length(scope);
      if length + 4 > SCRATCH_KEPT {
        let mut large = vec![0; length + 4];
        written = string.write_utf8_v2(scope, &mut large, v8::WriteFlags::kReplaceInvalidUtf8, None);
        return read(&large[..written]);
      }
      buffer.resize((length + 4).next_power_of_two(), 0);
      written = string.write_utf8_v2(scope, &mut buffer, v8::WriteFlags::kReplaceInvalidUtf8, None);
    }
    read(&buffer[..written])
  })
}

/// A byte string (WebIDL `ByteString`): every code unit must be at most U+00FF.
fn to_byte_string(scope: &v8::Isolate, value: v8::Local<v8::Value>) -> Result<ByteString, JsErrorBox> {
  let string = v8::Local::<v8::String>::try_from(value)
    .map_err(|_| JsErrorBox::type_error("a header name or value must be a string"))?;
  with_utf8(scope, &string, |utf8| {
    if utf8.is_ascii() {
      return Ok(ByteString::from(utf8));
    }
    let text = std::str::from_utf8(utf8).map_err(|_| not_latin1())?;
    text
      .chars()
      .map(|c| u8::try_from(u32::from(c)).map_err(|_| not_latin1()))
      .collect::<Result<Vec<u8>, _>>()
      .map(ByteString::from)
  })
}

fn not_latin1() -> JsErrorBox {
  JsErrorBox::type_error("a header name or value has a character above U+00FF")
}

/// A response's header list: an array of `[name, value]` pairs of byte strings.
pub fn header_list(
  scope: &mut v8::PinScope<'_, '_>,
  list: v8::Local<v8::Value>,
) -> Result<Vec<(ByteString, ByteString)>, JsErrorBox> {
  let not_a_list = || JsErrorBox::type_error("the header list must be an array of [name, value] pairs");
  let list = v8::Local::<v8::Array>::try_from(list).map_err(|_| not_a_list())?;
  let mut headers = Vec::with_capacity(list.length() as usize);
  for index in 0..list.length() {
    let pair = list.get_index(scope, index).ok_or_else(not_a_list)?;
    let pair = v8::Local::<v8::Array>::try_from(pair).map_err(|_| not_a_list())?;
    let name = pair.get_index(scope, 0).ok_or_else(not_a_list)?;
    let value = pair.get_index(scope, 1).ok_or_else(not_a_list)?;
    headers.push((to_byte_string(scope, name)?, to_byte_string(scope, value)?));
  }
  Ok(headers)
}
