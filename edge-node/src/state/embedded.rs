//! The one opener of the node's embedded databases (redb): a file in the data directory, or
//! without one, a database in memory for the life of the process.

use std::io;
use std::path::Path;
use std::sync::RwLock;

/// The embedded database (redb) `<data_dir>/<file>`, or one in memory without a data
/// directory: KV, queues and usage each keep one.
pub fn open(data_dir: Option<&Path>, file: &str) -> anyhow::Result<redb::Database> {
  match data_dir {
    Some(dir) => {
      let path = dir.join(file);
      redb::Database::create(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))
    }
    None => redb::Database::builder()
      .create_with_backend(Memory::default())
      .map_err(|e| anyhow::anyhow!("cannot create an in-memory store for {file}: {e}")),
  }
}

/// A database's bytes in memory. redb's own in-memory backend zeroes what a new database
/// allocates one byte at a time (about 5 ms of each `edge dev` start for each store); this one
/// grows with `Vec::resize`, whose zeroed pages the kernel provides as they are touched.
#[derive(Debug, Default)]
struct Memory(RwLock<Vec<u8>>);

fn out_of_range() -> io::Error {
  io::Error::new(io::ErrorKind::InvalidInput, "beyond the end of the in-memory store")
}

impl redb::StorageBackend for Memory {
  fn len(&self) -> Result<u64, io::Error> {
    Ok(self.0.read().unwrap().len() as u64)
  }

  fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, io::Error> {
    let bytes = self.0.read().unwrap();
    let start = usize::try_from(offset).map_err(|_| out_of_range())?;
    let end = start.checked_add(len).ok_or_else(out_of_range)?;
    bytes.get(start..end).map(<[u8]>::to_vec).ok_or_else(out_of_range)
  }

  fn set_len(&self, len: u64) -> Result<(), io::Error> {
    let len = usize::try_from(len).map_err(|_| out_of_range())?;
    self.0.write().unwrap().resize(len, 0);
    Ok(())
  }

  fn sync_data(&self, _eventual: bool) -> Result<(), io::Error> {
    Ok(())
  }

  fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
    let mut bytes = self.0.write().unwrap();
    let start = usize::try_from(offset).map_err(|_| out_of_range())?;
    let end = start.checked_add(data.len()).ok_or_else(out_of_range)?;
    bytes.get_mut(start..end).ok_or_else(out_of_range)?.copy_from_slice(data);
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use redb::ReadableTableMetadata as _;

  const TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("t");

  #[test]
  fn an_in_memory_store_keeps_what_was_written_as_it_grows() {
    let db = super::open(None, "test.redb").unwrap();
    let value = vec![7u8; 4096];
    let write = db.begin_write().unwrap();
    {
      let mut table = write.open_table(TABLE).unwrap();
      for key in 0..2000u64 {
        table.insert(key, value.as_slice()).unwrap();
      }
    }
    write.commit().unwrap();
    let read = db.begin_read().unwrap();
    let table = read.open_table(TABLE).unwrap();
    assert_eq!(table.len().unwrap(), 2000);
    assert_eq!(table.get(1999).unwrap().unwrap().value(), value.as_slice());
  }
}
