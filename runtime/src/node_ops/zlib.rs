//! `node:zlib`'s compression (`runtime/node/src/zlib.mjs`): one stateful stream per Node
//! zlib object (gzip, deflate, raw deflate, brotli, each way, and `unzip`, which reads gzip or
//! deflate by its header), held by the JS object as a cppgc object, fed chunk by chunk with an
//! optional flush, then finished. flate2 (miniz_oxide) and brotli, the crates deno_web's
//! `CompressionStream` uses. Node's one-shot and streaming APIs are all built on these three
//! ops in JS.

use std::cell::RefCell;
use std::io::Write;

use deno_core::convert::Uint8Array;
use deno_core::op2;
use deno_error::JsErrorBox;
use flate2::write::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::write::GzEncoder;
use flate2::write::MultiGzDecoder;
use flate2::write::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

/// Node's defaults: zlib's level 6 (`Z_DEFAULT_COMPRESSION`), brotli's quality 11 and window 22.
const DEFAULT_LEVEL: u32 = 6;
const BROTLI_QUALITY: u32 = 11;
const BROTLI_WINDOW: u32 = 22;
const BROTLI_BUFFER: usize = 4096;

enum Codec {
  Deflate(ZlibEncoder<Vec<u8>>),
  DeflateRaw(DeflateEncoder<Vec<u8>>),
  Gzip(GzEncoder<Vec<u8>>),
  Inflate(ZlibDecoder<Vec<u8>>),
  InflateRaw(DeflateDecoder<Vec<u8>>),
  Gunzip(MultiGzDecoder<Vec<u8>>),
  /// `unzip` until its first two bytes tell gzip from deflate.
  Unzip(Vec<u8>),
  BrotliCompress(Box<brotli::CompressorWriter<Vec<u8>>>),
  BrotliDecompress(Box<brotli::DecompressorWriter<Vec<u8>>>),
}

/// Runs `$body` with `$w` bound to the writer of any codec but `Unzip`.
macro_rules! writer {
  ($codec:expr, $w:ident => $body:expr) => {
    match $codec {
      Codec::Deflate($w) => $body,
      Codec::DeflateRaw($w) => $body,
      Codec::Gzip($w) => $body,
      Codec::Inflate($w) => $body,
      Codec::InflateRaw($w) => $body,
      Codec::Gunzip($w) => $body,
      Codec::BrotliCompress($w) => $body,
      Codec::BrotliDecompress($w) => $body,
      Codec::Unzip(_) => unreachable!("unzip has chosen its codec"),
    }
  };
}

/// One Node zlib stream; `None` once finished.
pub struct ZlibStream(RefCell<Option<Codec>>);

// SAFETY: holds no JS values, so there is nothing to trace.
#[allow(unsafe_code)]
unsafe impl deno_core::GarbageCollected for ZlibStream {
  fn trace(&self, _visitor: &mut deno_core::v8::cppgc::Visitor) {}

  fn get_name(&self) -> &'static std::ffi::CStr {
    c"ZlibStream"
  }
}

/// Data that is not what the stream expects, as zlib's `Z_DATA_ERROR` (Node's code is added
/// in JS).
fn data_error(error: impl std::fmt::Display) -> JsErrorBox {
  JsErrorBox::generic(format!("{error}"))
}

/// Applies an `unzip`'s pending bytes once they say which format they are.
fn choose(pending: &[u8]) -> Option<Codec> {
  match pending {
    [0x1f, 0x8b, ..] => Some(Codec::Gunzip(MultiGzDecoder::new(Vec::new()))),
    [_, _, ..] => Some(Codec::Inflate(ZlibDecoder::new(Vec::new()))),
    _ => None,
  }
}

/// A stream of `kind` (Node's class name, lower-case first: `gzip`, `inflateRaw`,
/// `brotliCompress`, …) at `level` (0–9, -1 for the default) or, for brotli, `quality`
/// (0–11) and `window` (10–24), -1 for the defaults.
#[op2]
#[cppgc]
pub fn op_edge_zlib_new(
  #[string] kind: &str,
  level: i32,
  quality: i32,
  window: i32,
) -> Result<ZlibStream, JsErrorBox> {
  let level = Compression::new(u32::try_from(level).unwrap_or(DEFAULT_LEVEL).min(9));
  let quality = u32::try_from(quality).unwrap_or(BROTLI_QUALITY).min(11);
  let window = u32::try_from(window).unwrap_or(BROTLI_WINDOW).clamp(10, 24);
  let codec = match kind {
    "deflate" => Codec::Deflate(ZlibEncoder::new(Vec::new(), level)),
    "deflateRaw" => Codec::DeflateRaw(DeflateEncoder::new(Vec::new(), level)),
    "gzip" => Codec::Gzip(GzEncoder::new(Vec::new(), level)),
    "inflate" => Codec::Inflate(ZlibDecoder::new(Vec::new())),
    "inflateRaw" => Codec::InflateRaw(DeflateDecoder::new(Vec::new())),
    "gunzip" => Codec::Gunzip(MultiGzDecoder::new(Vec::new())),
    "unzip" => Codec::Unzip(Vec::new()),
    "brotliCompress" => Codec::BrotliCompress(Box::new(brotli::CompressorWriter::new(
      Vec::new(),
      BROTLI_BUFFER,
      quality,
      window,
    ))),
    "brotliDecompress" => {
      Codec::BrotliDecompress(Box::new(brotli::DecompressorWriter::new(Vec::new(), BROTLI_BUFFER)))
    }
    _ => return Err(JsErrorBox::type_error(format!("unknown zlib stream {kind:?}"))),
  };
  Ok(ZlibStream(RefCell::new(Some(codec))))
}

/// Feeds `input` to `stream`; with `flush`, everything so far comes out (zlib's
/// `Z_SYNC_FLUSH`, brotli's flush). What the stream gives back so far.
#[op2]
pub fn op_edge_zlib_write(
  #[cppgc] stream: &ZlibStream,
  #[anybuffer] input: &[u8],
  flush: bool,
) -> Result<Uint8Array, JsErrorBox> {
  let mut state = stream.0.borrow_mut();
  let codec = state.as_mut().ok_or_else(|| JsErrorBox::generic("zlib binding closed"))?;
  let mut input = input;
  let replay: Vec<u8>;
  if let Codec::Unzip(pending) = codec {
    pending.extend_from_slice(input);
    let Some(chosen) = choose(pending) else { return Ok(Vec::new().into()) };
    replay = std::mem::take(pending);
    input = &replay;
    *codec = chosen;
  }
  // Decoders give what they have at every write; encoders only when asked to flush.
  let decoder =
    matches!(codec, Codec::Inflate(_) | Codec::InflateRaw(_) | Codec::Gunzip(_) | Codec::BrotliDecompress(_));
  writer!(codec, w => {
    w.write_all(input).map_err(data_error)?;
    if flush || decoder {
      w.flush().map_err(data_error)?;
    }
    Ok(std::mem::take(w.get_mut()).into())
  })
}

/// Ends `stream`: the rest of its output, or an error when the compressed input was cut
/// short.
#[op2]
pub fn op_edge_zlib_finish(#[cppgc] stream: &ZlibStream) -> Result<Uint8Array, JsErrorBox> {
  let codec = stream.0.borrow_mut().take().ok_or_else(|| JsErrorBox::generic("zlib binding closed"))?;
  let truncated = || JsErrorBox::generic("unexpected end of file");
  let out = match codec {
    Codec::Deflate(w) => w.finish().map_err(data_error)?,
    Codec::DeflateRaw(w) => w.finish().map_err(data_error)?,
    Codec::Gzip(w) => w.finish().map_err(data_error)?,
    Codec::Inflate(w) => w.finish().map_err(|_| truncated())?,
    Codec::InflateRaw(w) => w.finish().map_err(|_| truncated())?,
    Codec::Gunzip(w) => w.finish().map_err(|_| truncated())?,
    Codec::Unzip(pending) if pending.is_empty() => Vec::new(),
    Codec::Unzip(_) => return Err(truncated()),
    Codec::BrotliCompress(w) => w.into_inner(),
    Codec::BrotliDecompress(w) => w.into_inner().map_err(|_| truncated())?,
  };
  Ok(out.into())
}
