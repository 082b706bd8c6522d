//! `node:crypto`'s ciphers, signatures, keys and key derivation: what Node's synchronous API
//! needs beyond digests and HMACs (`hash.rs`) and WebCrypto cannot give.
//!
//! - `cipher`: AES (CBC, ECB, CTR, GCM) as a stateful object across `update` calls.
//! - `keys` and `jwk`: reading keys from every format Node takes into one normal form (DER:
//!   PKCS#8 or SPKI), writing them back, generating them.
//! - `sign`: signatures and RSA encryption over keys in that form.
//! - `kdf`: PBKDF2, scrypt, HKDF.
//! - `digest`: the digests the others name.
//!
//! Key parsing and cryptography live here; the shapes of Node's API (KeyObject, Sign,
//! Cipheriv, options, encodings, error codes) live in `runtime/node/src/crypto.mjs`. Errors
//! carry Node's (OpenSSL's) messages; the JS side adds Node's `code` for each.

mod cipher;
mod digest;
mod jwk;
mod kdf;
mod keys;
mod sign;

pub use cipher::*;
pub use kdf::*;
pub use keys::*;
pub use sign::*;
