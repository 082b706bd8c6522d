//! `createCipheriv` / `createDecipheriv`: AES in CBC, ECB, CTR and GCM modes, as an object
//! that lives across `update` calls (a cppgc object owned by the JS `Cipheriv`).
//!
//! Output follows OpenSSL's rhythm, which Node shows: a block mode emits whole blocks and keeps
//! the rest; a decryption with padding also keeps back its last whole block until `final`,
//! which strips the padding. CTR and GCM are streams. GCM is built here from AES-CTR and GHASH
//! (NIST SP 800-38D) because `aes-gcm` only takes a whole message at once, and Node's GCM
//! streams, takes IVs of any length and tags of 4 to 16 bytes.

use std::cell::RefCell;

use aes::cipher::consts::U16;
use aes::cipher::{
  BlockCipher, BlockDecrypt, BlockEncrypt, BlockSizeUser, InnerIvInit, KeyInit, StreamCipher,
};
use deno_core::{op2, v8, GarbageCollected};
use deno_error::JsErrorBox;
use ghash::universal_hash::UniversalHash;
use ghash::GHash;

/// AES's block.
type Block = [u8; 16];

/// One cipher's running state: what every mode answers.
trait Mode {
  fn update(&mut self, data: &[u8]) -> Vec<u8>;
  /// The rest of the output; for an AEAD encryption followed by the tag.
  fn finish(&mut self) -> Result<Vec<u8>, JsErrorBox>;
  fn set_aad(&mut self, _aad: &[u8]) -> Result<(), JsErrorBox> {
    Err(invalid_state("setAAD"))
  }
  fn set_auth_tag(&mut self, _tag: &[u8]) -> Result<(), JsErrorBox> {
    Err(invalid_state("setAuthTag"))
  }
  fn set_auto_padding(&mut self, _on: bool) {}
}

fn invalid_state(operation: &str) -> JsErrorBox {
  JsErrorBox::generic(format!("Invalid state for operation {operation}"))
}

/// OpenSSL's words for a block that does not fit, as Node passes them on.
fn wrong_final_block_length() -> JsErrorBox {
  JsErrorBox::generic("error:1C80006B:Provider routines::wrong final block length")
}

fn unauthenticated() -> JsErrorBox {
  JsErrorBox::generic("Unsupported state or unable to authenticate data")
}

/// A block cipher of 16-byte blocks (AES-128, -192 or -256).
trait Aes:
  BlockCipher + BlockSizeUser<BlockSize = U16> + BlockEncrypt + BlockDecrypt + KeyInit + Clone + 'static
{
}
impl<
    C: BlockCipher + BlockSizeUser<BlockSize = U16> + BlockEncrypt + BlockDecrypt + KeyInit + Clone + 'static,
  > Aes for C
{
}

fn encrypt_block<C: Aes>(cipher: &C, block: &mut Block) {
  cipher.encrypt_block(block.into());
}

/// CBC (chained) or ECB (`chain` is `None`), with PKCS#7 padding unless turned off.
struct BlockMode<C> {
  cipher: C,
  chain: Option<Block>,
  decrypt: bool,
  padding: bool,
  pending: Vec<u8>,
}

impl<C: Aes> BlockMode<C> {
  fn run(&mut self, blocks: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blocks.len());
    for chunk in blocks.chunks_exact(16) {
      let mut block: Block = chunk.try_into().expect("whole blocks");
      if self.decrypt {
        self.cipher.decrypt_block((&mut block).into());
        if let Some(chain) = &mut self.chain {
          block.iter_mut().zip(chain.iter()).for_each(|(b, c)| *b ^= c);
          chain.copy_from_slice(chunk);
        }
      } else {
        if let Some(chain) = &self.chain {
          block.iter_mut().zip(chain.iter()).for_each(|(b, c)| *b ^= c);
        }
        encrypt_block(&self.cipher, &mut block);
        if let Some(chain) = &mut self.chain {
          *chain = block;
        }
      }
      out.extend_from_slice(&block);
    }
    out
  }
}

impl<C: Aes> Mode for BlockMode<C> {
  fn update(&mut self, data: &[u8]) -> Vec<u8> {
    self.pending.extend_from_slice(data);
    let mut whole = self.pending.len() / 16 * 16;
    // A decryption keeps its last block back: it may be the one with the padding.
    if self.decrypt && self.padding && whole == self.pending.len() && whole > 0 {
      whole -= 16;
    }
    let blocks: Vec<u8> = self.pending.drain(..whole).collect();
    self.run(&blocks)
  }

  fn finish(&mut self) -> Result<Vec<u8>, JsErrorBox> {
    let mut rest = std::mem::take(&mut self.pending);
    if !self.padding {
      return if rest.is_empty() { Ok(Vec::new()) } else { Err(wrong_final_block_length()) };
    }
    if !self.decrypt {
      let pad = 16 - rest.len() % 16;
      rest.extend(std::iter::repeat_n(pad as u8, pad));
      return Ok(self.run(&rest));
    }
    if rest.len() != 16 {
      return Err(wrong_final_block_length());
    }
    let mut block = self.run(&rest);
    let pad = block[15] as usize;
    if pad == 0 || pad > 16 || block[16 - pad..].iter().any(|&b| b as usize != pad) {
      return Err(JsErrorBox::generic("error:1C800064:Provider routines::bad decrypt"));
    }
    block.truncate(16 - pad);
    Ok(block)
  }

  fn set_auto_padding(&mut self, on: bool) {
    self.padding = on;
  }
}

/// CTR with a 128-bit big-endian counter, as OpenSSL's `aes-*-ctr`.
struct Ctr<C: Aes>(ctr::Ctr128BE<C>);

impl<C: Aes> Mode for Ctr<C> {
  fn update(&mut self, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    self.0.apply_keystream(&mut out);
    out
  }

  fn finish(&mut self) -> Result<Vec<u8>, JsErrorBox> {
    Ok(Vec::new())
  }
}

/// GHASH over a stream of bytes: whole blocks go in as they come, the rest waits.
struct Ghash {
  hash: GHash,
  partial: Vec<u8>,
}

impl Ghash {
  fn absorb(&mut self, data: &[u8]) {
    self.partial.extend_from_slice(data);
    let whole = self.partial.len() / 16 * 16;
    let blocks: Vec<ghash::Block> =
      self.partial[..whole].chunks_exact(16).map(|b| *ghash::Block::from_slice(b)).collect();
    self.hash.update(&blocks);
    self.partial.drain(..whole);
  }

  /// Ends a section (the AAD, the ciphertext) with zeros up to a whole block.
  fn pad(&mut self) {
    if !self.partial.is_empty() {
      self.hash.update_padded(&self.partial);
      self.partial.clear();
    }
  }
}

struct Gcm<C: Aes> {
  cipher: C,
  ctr: ctr::Ctr32BE<C>,
  ghash: Ghash,
  j0: Block,
  decrypt: bool,
  /// The ciphertext has begun: no more AAD.
  text: bool,
  aad_len: u64,
  text_len: u64,
  tag_len: Option<usize>,
  tag: Option<Vec<u8>>,
}

/// The tag lengths GCM allows (SP 800-38D, 5.2.1.2), as OpenSSL checks them.
fn valid_tag_len(len: usize) -> bool {
  matches!(len, 4 | 8 | 12..=16)
}

impl<C: Aes> Gcm<C> {
  fn new(cipher: C, iv: &[u8], decrypt: bool, tag_len: Option<usize>) -> Gcm<C> {
    let mut h = Block::default();
    encrypt_block(&cipher, &mut h);
    let h = ghash::Key::from(h);
    let mut j0 = Block::default();
    if iv.len() == 12 {
      j0[..12].copy_from_slice(iv);
      j0[15] = 1;
    } else {
      let mut hash = GHash::new(&h);
      hash.update_padded(iv);
      let mut lengths = Block::default();
      lengths[8..].copy_from_slice(&(iv.len() as u64 * 8).to_be_bytes());
      hash.update(&[lengths.into()]);
      j0 = hash.finalize().into();
    }
    let mut counter = j0;
    let low = u32::from_be_bytes(counter[12..].try_into().expect("4 bytes")).wrapping_add(1);
    counter[12..].copy_from_slice(&low.to_be_bytes());
    let ctr = ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(cipher.clone(), &counter.into()));
    Gcm {
      cipher,
      ctr,
      ghash: Ghash { hash: GHash::new(&h), partial: Vec::new() },
      j0,
      decrypt,
      text: false,
      aad_len: 0,
      text_len: 0,
      tag_len,
      tag: None,
    }
  }

  fn begin_text(&mut self) {
    if !self.text {
      self.ghash.pad();
      self.text = true;
    }
  }
}

impl<C: Aes> Mode for Gcm<C> {
  fn update(&mut self, data: &[u8]) -> Vec<u8> {
    self.begin_text();
    self.text_len += data.len() as u64;
    let mut out = data.to_vec();
    if self.decrypt {
      self.ghash.absorb(data);
      self.ctr.apply_keystream(&mut out);
    } else {
      self.ctr.apply_keystream(&mut out);
      self.ghash.absorb(&out);
    }
    out
  }

  fn finish(&mut self) -> Result<Vec<u8>, JsErrorBox> {
    self.begin_text();
    self.ghash.pad();
    let mut lengths = Block::default();
    lengths[..8].copy_from_slice(&(self.aad_len * 8).to_be_bytes());
    lengths[8..].copy_from_slice(&(self.text_len * 8).to_be_bytes());
    self.ghash.hash.update(&[lengths.into()]);
    let hash = self.ghash.hash.clone().finalize();
    let mut tag = self.j0;
    encrypt_block(&self.cipher, &mut tag);
    tag.iter_mut().zip(hash.iter()).for_each(|(t, h)| *t ^= h);
    if !self.decrypt {
      return Ok(tag[..self.tag_len.unwrap_or(16)].to_vec());
    }
    let expected = self.tag.as_ref().ok_or_else(unauthenticated)?;
    let difference = expected.iter().zip(tag.iter()).fold(0, |d, (a, b)| d | (a ^ b));
    if difference != 0 {
      return Err(unauthenticated());
    }
    Ok(Vec::new())
  }

  fn set_aad(&mut self, aad: &[u8]) -> Result<(), JsErrorBox> {
    if self.text {
      return Err(invalid_state("setAAD"));
    }
    self.aad_len += aad.len() as u64;
    self.ghash.absorb(aad);
    Ok(())
  }

  fn set_auth_tag(&mut self, tag: &[u8]) -> Result<(), JsErrorBox> {
    if !self.decrypt || self.tag.is_some() {
      return Err(invalid_state("setAuthTag"));
    }
    if !valid_tag_len(tag.len()) || self.tag_len.is_some_and(|len| len != tag.len()) {
      return Err(JsErrorBox::type_error(format!("Invalid authentication tag length: {}", tag.len())));
    }
    self.tag = Some(tag.to_vec());
    Ok(())
  }
}

/// The modes by Node's cipher names (OpenSSL's, any case).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
  Cbc,
  Ecb,
  Ctr,
  Gcm,
}

/// Key size in bytes and mode of the cipher `name`.
fn parse(name: &str) -> Option<(usize, Kind)> {
  let name = name.to_ascii_lowercase();
  let (bits, mode) = if let Some(rest) = name.strip_prefix("id-aes") {
    (rest.strip_suffix("-gcm")?, "gcm")
  } else if let Some(rest) = name.strip_prefix("aes-") {
    rest.split_once('-')?
  } else {
    (name.strip_prefix("aes")?, "cbc")
  };
  let size = match bits {
    "128" => 16,
    "192" => 24,
    "256" => 32,
    _ => return None,
  };
  let kind = match mode {
    "cbc" => Kind::Cbc,
    "ecb" => Kind::Ecb,
    "ctr" => Kind::Ctr,
    "gcm" => Kind::Gcm,
    _ => return None,
  };
  Some((size, kind))
}

fn mode<C: Aes>(kind: Kind, key: &[u8], iv: &[u8], decrypt: bool, tag_len: Option<usize>) -> Box<dyn Mode> {
  let cipher = C::new_from_slice(key).expect("the key length was checked");
  match kind {
    Kind::Cbc | Kind::Ecb => Box::new(BlockMode {
      cipher,
      chain: (kind == Kind::Cbc).then(|| iv.try_into().expect("the IV length was checked")),
      decrypt,
      padding: true,
      pending: Vec::new(),
    }),
    Kind::Ctr => Box::new(Ctr(ctr::Ctr128BE::from_core(ctr::CtrCore::inner_iv_init(cipher, iv.into())))),
    Kind::Gcm => Box::new(Gcm::new(cipher, iv, decrypt, tag_len)),
  }
}

/// A cipher or decipher between `createCipheriv` and `final`.
pub struct Cipher(RefCell<Option<Box<dyn Mode>>>);

impl Cipher {
  fn with<T>(&self, f: impl FnOnce(&mut dyn Mode) -> Result<T, JsErrorBox>) -> Result<T, JsErrorBox> {
    match self.0.borrow_mut().as_mut() {
      Some(mode) => f(mode.as_mut()),
      None => Err(JsErrorBox::generic("Unsupported state")),
    }
  }
}

// SAFETY: a `Cipher` holds no JS values, so cppgc has nothing to trace in it.
#[allow(unsafe_code)]
unsafe impl GarbageCollected for Cipher {
  fn trace(&self, _visitor: &mut v8::cppgc::Visitor) {}

  fn get_name(&self) -> &'static std::ffi::CStr {
    c"NodeCipher"
  }
}

/// A new cipher (`decrypt` false) or decipher of the AES cipher `name`. `tag_length` is
/// the `authTagLength` option (0 when not given). Errors are Node's.
#[op2]
#[cppgc]
pub fn op_edge_node_cipher_new(
  #[string] name: &str,
  #[buffer] key: &[u8],
  #[buffer] iv: &[u8],
  decrypt: bool,
  #[smi] tag_length: u32,
) -> Result<Cipher, JsErrorBox> {
  let (size, kind) = parse(name).ok_or_else(|| JsErrorBox::generic("Unknown cipher"))?;
  if key.len() != size {
    return Err(JsErrorBox::new("RangeError", "Invalid key length"));
  }
  let iv_ok = match kind {
    Kind::Cbc | Kind::Ctr => iv.len() == 16,
    Kind::Ecb => iv.is_empty(),
    Kind::Gcm => !iv.is_empty(),
  };
  if !iv_ok {
    return Err(JsErrorBox::type_error("Invalid initialization vector"));
  }
  let tag_len = match (kind, tag_length) {
    (_, 0) => None,
    (Kind::Gcm, len) if valid_tag_len(len as usize) => Some(len as usize),
    (Kind::Gcm, len) => {
      return Err(JsErrorBox::type_error(format!("Invalid authentication tag length: {len}")));
    }
    _ => None,
  };
  let mode = match size {
    16 => mode::<aes::Aes128>(kind, key, iv, decrypt, tag_len),
    24 => mode::<aes::Aes192>(kind, key, iv, decrypt, tag_len),
    _ => mode::<aes::Aes256>(kind, key, iv, decrypt, tag_len),
  };
  Ok(Cipher(RefCell::new(Some(mode))))
}

/// What `data` gives through the cipher now.
#[op2]
#[buffer]
pub fn op_edge_node_cipher_update(
  #[cppgc] cipher: &Cipher,
  #[buffer] data: &[u8],
) -> Result<Vec<u8>, JsErrorBox> {
  cipher.with(|mode| Ok(mode.update(data)))
}

/// Sets `what` before the data: `aad` (GCM's additional data), `authTag` (the tag a GCM
/// decipher checks) or `autoPadding` (on if `value` is `[1]`).
#[op2(fast)]
pub fn op_edge_node_cipher_set(
  #[cppgc] cipher: &Cipher,
  #[string] what: &str,
  #[buffer] value: &[u8],
) -> Result<(), JsErrorBox> {
  cipher.with(|mode| match what {
    "aad" => mode.set_aad(value),
    "authTag" => mode.set_auth_tag(value),
    "autoPadding" => {
      mode.set_auto_padding(value == [1]);
      Ok(())
    }
    _ => Err(JsErrorBox::type_error(format!("no cipher setting {what}"))),
  })
}

/// The rest of the output (and, for a GCM cipher, the tag after it: its last `authTagLength`
/// bytes). The cipher is spent after this.
#[op2]
#[buffer]
pub fn op_edge_node_cipher_final(#[cppgc] cipher: &Cipher) -> Result<Vec<u8>, JsErrorBox> {
  let result = cipher.with(|mode| mode.finish());
  cipher.0.borrow_mut().take();
  result
}

#[cfg(test)]
mod tests {
  use super::*;

  fn run(name: &str, key: &[u8], iv: &[u8], decrypt: bool, chunks: &[&[u8]]) -> Result<Vec<u8>, JsErrorBox> {
    let (size, kind) = parse(name).unwrap();
    assert_eq!(size, key.len());
    let mut mode = mode::<aes::Aes256>(kind, key, iv, decrypt, None);
    let mut out = Vec::new();
    for chunk in chunks {
      out.extend(mode.update(chunk));
    }
    out.extend(mode.finish()?);
    Ok(out)
  }

  #[test]
  fn cbc_round_trips_across_uneven_chunks() {
    let key = [1u8; 32];
    let iv = [3u8; 16];
    let plain = b"forty bytes of plain text, more or less";
    let sealed = run("aes-256-cbc", &key, &iv, false, &[&plain[..7], &plain[7..]]).unwrap();
    assert_eq!(sealed.len(), 48);
    let opened = run("aes-256-cbc", &key, &iv, true, &[&sealed[..20], &sealed[20..]]).unwrap();
    assert_eq!(opened, plain);
  }

  #[test]
  fn gcm_refuses_a_wrong_tag() {
    let key = [1u8; 32];
    let (_, kind) = parse("id-aes256-GCM").unwrap();
    let mut mode = mode::<aes::Aes256>(kind, &key, &[2; 12], true, None);
    mode.update(b"x");
    mode.set_auth_tag(&[0; 16]).unwrap();
    assert!(mode.finish().is_err());
  }

  #[test]
  fn names_as_openssl_spells_them() {
    assert!(parse("AES-128-GCM").is_some());
    assert!(parse("aes256").is_some_and(|(size, kind)| size == 32 && kind == Kind::Cbc));
    assert!(parse("aes-256-xts").is_none());
    assert!(parse("des-ede3").is_none());
  }
}
