//! A 3-node cluster elects one leader and commits client writes that read back.
mod common;

use common::{append, count, put, write_keys, Cluster, NODES};
use openraft_kv::Knobs;
use sut::ops::{Op, Outcome};
use sut::trace::{Role, TraceEvent};

#[test]
fn elects_a_leader_and_commits_writes_that_read_back() {
    let mut c = Cluster::new(7, Knobs::default());
    let reads = c.client(|mut client| async move {
        write_keys(&mut client, 0..10).await;
        assert_eq!(client.write(append("log", "a")).await, Ok(Outcome::Done));
        assert_eq!(client.write(append("log", "b")).await, Ok(Outcome::Done));
        let cas = Op::Cas {
            key: "key-0".into(),
            from: Some("wrong".into()),
            to: "x".into(),
        };
        let current = Some("value-0".to_string());
        assert_eq!(
            client.write(cas).await,
            Ok(Outcome::CasMismatch { current })
        );
        let del = Op::Delete {
            key: "key-1".into(),
        };
        assert_eq!(client.write(del).await, Ok(Outcome::Done));
        let mut reads = Vec::new();
        for key in ["key-0", "key-1", "key-9", "log"] {
            reads.push(client.read(key).await.expect("read answered"));
        }
        assert_eq!(client.write(put("key-9", "nine")).await, Ok(Outcome::Done));
        reads.push(client.read("key-9").await.expect("read answered"));
        reads
    });
    let want = [
        Some("value-0"),
        None,
        Some("value-9"),
        Some("ab"),
        Some("nine"),
    ];
    let want: Vec<Option<String>> = want.iter().map(|v| v.map(String::from)).collect();
    assert_eq!(reads, want);

    let records = c.trace.records();
    // Exactly one leader per term, and some leader was elected.
    let leaders: Vec<(u64, u64)> = records
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Role {
                role: Role::Leader,
                term,
                ..
            } => Some((term, r.node)),
            _ => None,
        })
        .collect();
    assert!(!leaders.is_empty(), "no leader elected");
    for (term, node) in &leaders {
        assert!(
            leaders.iter().all(|(t, n)| t != term || n == node),
            "two leaders in term {term}: {leaders:?}"
        );
    }
    // Every node applied all 15 commands, the same ones in the same order.
    let applied = |node| -> Vec<(u64, u64)> {
        c.events(node)
            .into_iter()
            .filter_map(|e| match e {
                TraceEvent::Apply {
                    index,
                    digest,
                    client: Some(_),
                    ..
                } => Some((index, digest)),
                _ => None,
            })
            .collect()
    };
    let first = applied(NODES[0]);
    assert_eq!(first.len(), 15, "commands applied on n1");
    for n in NODES {
        // A follower may have taken some of them in through a snapshot.
        let mine = applied(n);
        assert!(first.ends_with(&mine), "n{n} applied a different sequence");
    }
    assert!(count(&records, |r| matches!(r.event, TraceEvent::Commit { .. })) > 0);
}
