//! Durable state: WAL segments and snapshot files over the [`Disk`] trait.
