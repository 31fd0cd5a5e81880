//! The disk discipline the stores rely on, on turmoil's simulated disk: what
//! was fsynced (and its directory entry synced) survives a crash, nothing
//! else does.
use openraft_kv::disk::Dir;
use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;
use turmoil::fs::shim::std::fs::{self as simfs, OpenOptions};

#[test]
fn a_crash_keeps_synced_writes_and_loses_the_rest() {
    let mut sim = turmoil::Builder::new().build();
    let boots = Rc::new(Cell::new(0));
    let seen = Rc::new(Cell::new(None));
    let (b, s) = (boots.clone(), seen.clone());
    sim.host("n1", move || {
        let (boots, seen) = (b.clone(), s.clone());
        async move {
            let boot = boots.get();
            boots.set(boot + 1);
            let dir = Dir::open("/data/n1/gen-0")?;
            if boot == 0 {
                dir.write_durable("durable", b"kept")?;
                let mut log = dir.open_append("log")?;
                log.append_synced(b"synced;")?;
                // Written but never fsynced: the crash must take it.
                let mut raw = OpenOptions::new().append(true).open(dir.path("log"))?;
                raw.write_all(b"unsynced;")?;
                simfs::write(dir.path("never-synced"), b"gone")?;
            } else {
                let durable = dir.read("durable")?;
                let log = dir.read("log")?;
                let never = dir.read("never-synced")?;
                seen.set(Some((durable, log, never)));
            }
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    for _ in 0..10 {
        sim.step().expect("step");
    }
    sim.crash("n1");
    sim.bounce("n1");
    let (durable, log, never) = loop {
        if let Some(found) = seen.take() {
            break found;
        }
        sim.step().expect("step");
        assert!(
            sim.elapsed() < Duration::from_secs(1),
            "the host never rebooted"
        );
    };
    assert_eq!(durable.as_deref(), Some(b"kept".as_slice()));
    assert_eq!(log.as_deref(), Some(b"synced;".as_slice()));
    assert_eq!(never, None);
}
