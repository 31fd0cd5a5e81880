//! Checking a history as one object (no per-key split) first tries a
//! witness assembled from parts that look independent. Here the parts lie:
//! a model whose "keys" commute where the checker looks but not everywhere.
//! The verdict must still be the true one.
use checkers::linearizability::{check, CheckOptions, Operation, Verdict};
use checkers::model::{Model, OpText};

/// Two registers, x and y. Writing y while x is 7 and y is already set adds
/// 100: the registers commute from the initial state, but not later.
struct Coupled;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Input {
    SetX(i64),
    SetY(i64),
    GetY,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Output {
    Ok,
    Value(i64),
}

impl Model for Coupled {
    type Input = Input;
    type Output = Output;
    type State = (i64, i64);

    fn init(&self) -> (i64, i64) {
        (0, 0)
    }

    fn step(
        &self,
        &(x, y): &(i64, i64),
        input: &Input,
        output: Option<&Output>,
    ) -> Option<(i64, i64)> {
        match (input, output) {
            (Input::SetX(v), None | Some(Output::Ok)) => Some((*v, y)),
            (Input::SetY(v), None | Some(Output::Ok)) => {
                Some((x, if x == 7 && y != 0 { v + 100 } else { *v }))
            }
            (Input::GetY, None) => Some((x, y)),
            (Input::GetY, Some(Output::Value(v))) => (*v == y).then_some((x, y)),
            _ => None,
        }
    }

    fn describe_op(&self, input: &Input, output: Option<&Output>) -> OpText {
        OpText {
            f: format!("{input:?}"),
            value_in: String::new(),
            value_out: output.map(|o| format!("{o:?}")),
        }
    }

    fn describe_state(&self, state: &(i64, i64)) -> String {
        format!("{state:?}")
    }
}

/// One operation per time step, one after another.
fn sequential(ops: &[(Input, Output)]) -> Vec<Operation<Input, Output>> {
    ops.iter()
        .enumerate()
        .map(|(i, (input, output))| Operation {
            process: i as u64,
            input: input.clone(),
            call: 2 * i as u64,
            ret: Some((2 * i as u64 + 1, output.clone())),
        })
        .collect()
}

fn whole(ops: &[Operation<Input, Output>]) -> Verdict {
    let options = CheckOptions {
        partition: false,
        ..CheckOptions::default()
    };
    check(&Coupled, ops, &options)
}

#[test]
fn a_witness_from_parts_is_verified_not_trusted() {
    // x's part and y's part each linearize alone, and merge in time order,
    // but in that order the second write of y adds 100.
    let ops = sequential(&[
        (Input::SetY(1), Output::Ok),
        (Input::SetX(7), Output::Ok),
        (Input::SetY(2), Output::Ok),
        (Input::GetY, Output::Value(2)),
    ]);
    let Verdict::NotLinearizable(c) = whole(&ops) else {
        panic!("the coupled write makes y 102");
    };
    assert_eq!(c.partition, None);
    assert_eq!(c.longest_prefix, vec![0, 1, 2]);
    assert_eq!(c.state_after_prefix, "(7, 102)");
    assert_eq!(c.stuck.len(), 1);
    assert_eq!(c.stuck[0].op, 3);
}

#[test]
fn a_part_failing_alone_does_not_refute_the_whole() {
    // y's part alone cannot read 102; the whole history can.
    let ops = sequential(&[
        (Input::SetY(1), Output::Ok),
        (Input::SetX(7), Output::Ok),
        (Input::SetY(2), Output::Ok),
        (Input::GetY, Output::Value(102)),
    ]);
    assert!(matches!(whole(&ops), Verdict::Linearizable));
}

#[test]
fn a_merge_in_the_wrong_order_falls_back_to_the_full_search() {
    // Overlapping writes of both registers. Merged by call time, x is set
    // before y's second write, which then adds 100 and the reads fail; the
    // full search finds the order that works (y's write first).
    let op = |p, input, call, ret, out| Operation {
        process: p,
        input,
        call,
        ret: Some((ret, out)),
    };
    let ops = vec![
        op(0, Input::SetY(1), 0, 1, Output::Ok),
        op(1, Input::SetX(7), 2, 9, Output::Ok),
        op(2, Input::SetY(2), 3, 5, Output::Ok),
        op(3, Input::GetY, 6, 7, Output::Value(2)),
        op(4, Input::GetY, 10, 11, Output::Value(2)),
    ];
    assert!(matches!(whole(&ops), Verdict::Linearizable));
    // Once x is set before y's write is called, no order works.
    let mut late = ops;
    late[1].ret = Some((2, Output::Ok));
    assert!(matches!(whole(&late), Verdict::NotLinearizable(_)));
}
