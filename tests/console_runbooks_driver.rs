//! The console's HTTP driver against a real gateway on 127.0.0.1:0: every runbook request the
//! console makes reaches the right endpoint and its reply decodes (list, detail, dry run with a
//! plan, a real run started once per idempotency key, runs, one run, abort, a refused approve).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::gateway::start_sim;
use opsdeck::app::{Reply, RequestKind, RunControl};
use opsdeck::client::http::HttpClient;
use opsdeck::protocol::RunState;

#[tokio::test]
async fn runbook_requests_reach_the_gateway_and_decode() {
    let gw = start_sim(3, 1.0, None).await;
    let client = HttpClient::new(&format!("ws://{}", gw.addr)).unwrap();
    let run = |kind: RequestKind| {
        let client = client.clone();
        async move { client.execute(&kind).await }
    };

    let Ok(Reply::Runbooks(list)) = run(RequestKind::FetchRunbooks).await else {
        panic!("no runbook list")
    };
    assert!(list.iter().any(|r| r.id == "bad-release"), "{list:?}");

    let Ok(Reply::Runbook(detail)) = run(RequestKind::FetchRunbook {
        runbook: "bad-release".into(),
    })
    .await
    else {
        panic!("no detail")
    };
    assert!(detail.summary.params.iter().any(|p| p.kind == "app"));

    let Ok(Reply::Apps(apps)) = run(RequestKind::FetchApps).await else {
        panic!("no apps")
    };
    let app = apps[0].id.clone();
    let params: BTreeMap<_, _> = [("app".to_string(), serde_json::Value::from(app.clone()))].into();
    let start = |dry_run: bool, key: Option<&str>| RequestKind::StartRun {
        runbook: "bad-release".into(),
        params: params.clone(),
        dry_run,
        idempotency_key: key.map(str::to_string),
        actor: "li.wei".into(),
    };

    let Ok(Reply::Run(dry)) = run(start(true, None)).await else {
        panic!("no dry run")
    };
    assert!(dry.dry_run);
    assert!(!dry.plan.unwrap().steps.is_empty());

    let Ok(Reply::Run(first)) = run(start(false, Some("k-console-1"))).await else {
        panic!("no run")
    };
    assert!(!first.dry_run);
    assert_eq!(first.started_by, "li.wei");
    // The same key again is the same run, not a second one.
    let Ok(Reply::Run(again)) = run(start(false, Some("k-console-1"))).await else {
        panic!("no replay")
    };
    assert_eq!(again.id, first.id);

    let Ok(Reply::Runs(runs)) = run(RequestKind::FetchRuns).await else {
        panic!("no runs")
    };
    assert_eq!(runs.iter().filter(|r| !r.dry_run).count(), 1);
    let Ok(Reply::Run(one)) = run(RequestKind::FetchRun {
        run: first.id.clone(),
    })
    .await
    else {
        panic!("no run")
    };
    assert_eq!(one.id, first.id);

    // Abort it (on a healthy app its first check may already have failed it: then the gateway
    // refuses with 409); approving a run that is not waiting is refused with the reason.
    match run(RequestKind::ControlRun {
        run: first.id.clone(),
        control: RunControl::Abort,
        step: None,
        actor: "li.wei".into(),
        idempotency_key: "k-abort-1".into(),
    })
    .await
    {
        Ok(Reply::Run(_)) => {}
        Err(e) if e.status == Some(409) => {}
        other => panic!("abort: {other:?}"),
    }
    let refused = run(RequestKind::ControlRun {
        run: first.id.clone(),
        control: RunControl::Approve,
        step: Some(first.steps[0].id.clone()),
        actor: "li.wei".into(),
        idempotency_key: "k-approve-1".into(),
    })
    .await
    .unwrap_err();
    assert_eq!(refused.status, Some(409), "{refused:?}");
    let Ok(Reply::Run(done)) = run(RequestKind::FetchRun { run: first.id }).await else {
        panic!("no run")
    };
    assert!(
        matches!(done.state, RunState::Aborted | RunState::Failed),
        "{:?}",
        done.state
    );
}
