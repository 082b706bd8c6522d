//! The one opener of the node's embedded databases (redb): a file in the data directory, or
//! without one, a database in memory for the life of the process.

use std::path::Path;

/// The embedded database (redb) `<data_dir>/<file>`, or one in memory without a data
/// directory: KV, queues and usage each keep one.
pub fn open(data_dir: Option<&Path>, file: &str) -> anyhow::Result<redb::Database> {
  match data_dir {
    Some(dir) => {
      let path = dir.join(file);
      redb::Database::create(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))
    }
    None => redb::Database::builder()
      .create_with_backend(redb::backends::InMemoryBackend::new())
      .map_err(|e| anyhow::anyhow!("cannot create an in-memory store for {file}: {e}")),
  }
}
