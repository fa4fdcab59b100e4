//! Releases on the memory target with failure knobs: history and statuses after every kind of
//! outcome, leases, generated values kept across upgrades, uninstall keeping volumes.

use std::path::PathBuf;

use cocktail_pkg::model::{ReleaseName, ServiceMapName};
use cocktail_pkg::ops::commit::ApplySettings;
use cocktail_pkg::ops::deploy::{DeployMode, DeployOptions, deploy};
use cocktail_pkg::ops::history::history;
use cocktail_pkg::ops::list::list;
use cocktail_pkg::ops::uninstall::{UninstallOptions, uninstall};
use cocktail_pkg::ops::{Generation, ValuesSources};
use cocktail_pkg::release::Status;
use cocktail_pkg::targets::Target;
use cocktail_pkg::targets::memory::{Knobs, MemoryTarget};

use crate::support::PackageBuilder;

fn package(version: &str, replicas: u32) -> (tempfile::TempDir, PathBuf) {
    PackageBuilder::new("app")
        .file(
            "package.yaml",
            &format!("apiVersion: cocktail-pkg/v1\nname: app\nversion: {version}\nappVersion: \"1\"\n"),
        )
        .file("values.yaml", &format!("replicas: {replicas}\nauth:\n  password: null\n"))
        .file(
            "values.schema.json",
            r#"{"type": "object", "properties": {"auth": {"type": "object", "properties": {"password": {"type": ["string", "null"], "x-cocktail-generate": "password", "x-cocktail-secret": true}}}}}"#,
        )
        .file(
            "templates/all.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  password: {{ values.auth.password }}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  replicas: \"{{ values.replicas }}\"\n",
        )
        .write()
}

fn names() -> (ServiceMapName, ReleaseName) {
    (
        ServiceMapName::new("shop").unwrap(),
        ReleaseName::new("web").unwrap(),
    )
}

fn opts(pkg: &std::path::Path, mode: DeployMode, now: i64) -> DeployOptions {
    let (service_map, release) = names();
    DeployOptions {
        release,
        service_map,
        package: pkg.to_path_buf(),
        values: ValuesSources::default(),
        mode,
        dry_run: false,
        history_max: 3,
        holder: "tester".into(),
        now,
        generation: Generation::Random,
        apply: ApplySettings::default(),
        create_service_map: false,
        policy: Default::default(),
        expect_revision: None,
        force: false,
        force_crd_changes: false,
        correct_drift: false,
    }
}

const UPGRADE: DeployMode = DeployMode::Upgrade {
    install_if_missing: false,
    reuse_values: false,
};

fn statuses(t: &MemoryTarget) -> Vec<(u64, Status)> {
    let (sm, rel) = names();
    t.records(&sm, &rel)
        .unwrap()
        .iter()
        .map(|r| (r.revision, r.status))
        .collect()
}

#[test]
fn install_upgrade_and_history() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    let out = deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    assert_eq!(out.record.status, Status::Deployed);
    assert_eq!(t.objects().len(), 3);
    let password = out.record.values["auth"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 24);
    // Installing again is refused; upgrading works and keeps the generated password.
    assert!(deploy(&t, &opts(&v1, DeployMode::Install, 110)).is_err());
    let (_b, v2) = package("1.1.0", 2);
    let out = deploy(&t, &opts(&v2, UPGRADE, 200)).unwrap();
    assert_eq!(out.record.values["auth"]["password"], password.as_str());
    // Every object carries the package-version label, so all three change.
    assert_eq!(out.plan.counts()["update"], 3, "{:?}", out.plan.counts());
    assert_eq!(
        statuses(&t),
        [(1, Status::Superseded), (2, Status::Deployed)]
    );
    // The same package and values again: nothing changed, so no revision is made...
    let out = deploy(&t, &opts(&v2, UPGRADE, 250)).unwrap();
    assert!(!out.plan.has_changes(), "{:?}", out.plan.counts());
    assert!(out.up_to_date);
    assert_eq!(out.record.revision, 2);
    assert_eq!(
        statuses(&t),
        [(1, Status::Superseded), (2, Status::Deployed)]
    );
    // ...unless --force asks for one.
    let mut forced = opts(&v2, UPGRADE, 260);
    forced.force = true;
    let out = deploy(&t, &forced).unwrap();
    assert!(!out.up_to_date && !out.plan.has_changes());
    assert_eq!(out.record.revision, 3);
    // History is pruned to --history-max.
    for (i, now) in [300, 400].into_iter().enumerate() {
        let (_c, v) = package(&format!("1.2.{i}"), 3 + i as u32);
        deploy(&t, &opts(&v, UPGRADE, now)).unwrap();
    }
    assert_eq!(
        statuses(&t),
        [
            (3, Status::Superseded),
            (4, Status::Superseded),
            (5, Status::Deployed)
        ]
    );
    let (sm, rel) = names();
    assert_eq!(history(&t, &sm, &rel).unwrap().len(), 3);
    let rows = list(&t, None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].revision, rows[0].version.as_str()), (5, "1.2.1"));
}

#[test]
fn a_failed_apply_leaves_a_failed_revision_not_a_pending_one() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    t.set_knobs(Knobs {
        fail_apply_nth: Some(1),
        ..Knobs::default()
    });
    let (_b, v2) = package("1.1.0", 2);
    let err = deploy(&t, &opts(&v2, UPGRADE, 200)).unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(statuses(&t), [(1, Status::Deployed), (2, Status::Failed)]);
    // The lease was given back: the next upgrade goes through; the failed revision stays
    // failed in history.
    t.set_knobs(Knobs::default());
    deploy(&t, &opts(&v2, UPGRADE, 300)).unwrap();
    assert_eq!(
        statuses(&t),
        [
            (1, Status::Superseded),
            (2, Status::Failed),
            (3, Status::Deployed)
        ]
    );
}

#[test]
fn a_held_lease_fails_fast_and_an_expired_one_is_taken_over() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    t.hold_lease("shop", "web", "ci@runner", 50, 1_000);
    let err = deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operation in progress on release `web` by ci@runner since 1970-01-01T00:00:50Z; expires in 15m0s"
    );
    assert!(statuses(&t).is_empty());
    // A killed process left a pending revision and its lease; once the lease expires, the next
    // operation marks that revision failed and proceeds.
    deploy(&t, &opts(&v1, DeployMode::Install, 2_000)).unwrap();
    let (sm, rel) = names();
    let mut stuck = t.records(&sm, &rel).unwrap().pop().unwrap();
    stuck.revision = 2;
    stuck.status = Status::PendingUpgrade;
    t.write_record(&stuck).unwrap();
    t.hold_lease("shop", "web", "killed@host", 2_100, 2_400);
    let (_b, v2) = package("1.1.0", 2);
    deploy(&t, &opts(&v2, UPGRADE, 3_000)).unwrap();
    assert_eq!(
        statuses(&t),
        [
            (1, Status::Superseded),
            (2, Status::Failed),
            (3, Status::Deployed)
        ]
    );
    let records = t.records(&sm, &rel).unwrap();
    assert!(
        records[1].description.starts_with("interrupted"),
        "{}",
        records[1].description
    );
}

#[test]
fn dry_run_changes_nothing() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    let mut o = opts(&v1, DeployMode::Install, 100);
    o.dry_run = true;
    let out = deploy(&t, &o).unwrap();
    assert!(out.dry_run && out.plan.has_changes());
    assert!(t.objects().is_empty() && statuses(&t).is_empty());
    // A dry run only reads: it works while another operation holds the lease.
    t.hold_lease("shop", "web", "someone-else", 0, i64::MAX);
    assert!(deploy(&t, &o).is_ok());
    o.dry_run = false;
    assert!(
        deploy(&t, &o)
            .unwrap_err()
            .to_string()
            .contains("operation in progress")
    );
}

#[test]
fn uninstall_keeps_volumes_unless_asked() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let (service_map, release) = names();
    let u = UninstallOptions {
        release: release.clone(),
        service_map: service_map.clone(),
        keep_history: true,
        delete_volumes: false,
        holder: "t".into(),
        now: 200,
        no_hooks: false,
        hook_timeout: std::time::Duration::from_secs(300),
    };
    let out = uninstall(&t, &u).unwrap();
    assert_eq!(out.kept.len(), 1);
    assert_eq!(out.kept[0].kind, "PersistentVolumeClaim");
    assert_eq!(t.objects().len(), 1);
    assert_eq!(statuses(&t), [(1, Status::Uninstalled)]);
    assert!(list(&t, None).unwrap().is_empty());
    // Reinstalling after an uninstall with history works.
    deploy(&t, &opts(&v1, DeployMode::Install, 300)).unwrap();
    let u = UninstallOptions {
        keep_history: false,
        delete_volumes: true,
        ..u
    };
    uninstall(&t, &u).unwrap();
    assert!(t.objects().is_empty());
    assert!(statuses(&t).is_empty());
}

#[test]
fn uninstall_and_prune_refuse_objects_they_cannot_account_for() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let (sm, rel) = names();
    let good = t.records(&sm, &rel).unwrap().pop().unwrap();
    let uninstall_opts = UninstallOptions {
        release: rel.clone(),
        service_map: sm.clone(),
        keep_history: false,
        delete_volumes: true,
        holder: "t".into(),
        now: 200,
        no_hooks: false,
        hook_timeout: std::time::Duration::from_secs(300),
    };
    // A manifest document that no longer parses: before, it was skipped and its object left
    // behind; now nothing is deleted and the error names the record and the document.
    let mut damaged = good.clone();
    damaged.manifest = damaged
        .manifest
        .replacen("kind: ConfigMap", "kind: [ConfigMap", 1);
    t.write_record(&damaged).unwrap();
    let err = uninstall(&t, &uninstall_opts).unwrap_err();
    let text = cocktail_pkg::error_chain(&err);
    assert!(
        text.starts_with(
            "failed to account for the objects of release `web` revision 1: the manifest document at line"
        ) && text.contains("does not parse"),
        "{text}"
    );
    assert!(
        err.hint()
            .unwrap()
            .contains("nothing was applied or deleted")
    );
    assert_eq!(t.objects().len(), 3, "nothing was deleted");
    // Same for an upgrade, which prunes against the same record.
    let (_b, v2) = package("1.1.0", 2);
    assert!(matches!(
        deploy(&t, &opts(&v2, UPGRADE, 150)),
        Err(cocktail_pkg::ops::OpError::Inventory { .. })
    ));
    // An object of the inventory the manifest lost, and the other way round.
    let mut lost = good.clone();
    lost.manifest = lost.manifest.split("\n---\n").next().unwrap().to_string();
    t.write_record(&lost).unwrap();
    let err = uninstall(&t, &uninstall_opts).unwrap_err().to_string();
    assert!(err.contains("which the manifest does not hold"), "{err}");
    let mut unnamed = good.clone();
    unnamed.inventory.pop();
    t.write_record(&unnamed).unwrap();
    let err = uninstall(&t, &uninstall_opts).unwrap_err().to_string();
    assert!(err.contains("which the inventory does not name"), "{err}");
    assert_eq!(t.objects().len(), 3);
    // The intact record uninstalls everything it names.
    t.write_record(&good).unwrap();
    let out = uninstall(&t, &uninstall_opts).unwrap();
    assert_eq!(out.deleted.len(), 3);
    assert!(t.objects().is_empty());
}

#[test]
fn releases_on_a_directory_target_through_the_cli() {
    use predicates::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", tmp.path().join("gitops").display());
    let cmd = || {
        let mut c = crate::support::cmd();
        c.env_remove("COCKTAIL_PKG_TARGET")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("KUBECONFIG", tmp.path().join("no-such-kubeconfig"));
        c
    };
    cmd()
        .args(["install", "web", "catalog/nginx", "-n", "shop"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: no target: no kubeconfig found",
        ))
        .stderr(predicate::str::contains("--target kube"))
        .stderr(predicate::str::contains("--target dir:PATH"));
    cmd()
        .args(["install", "web", "catalog/nginx", "-n", "shop", "--target", &target])
        .assert()
        .success()
        .stdout("create     ConfigMap/shop/web-nginx\ncreate     Service/shop/web-nginx\ncreate     Deployment.apps/shop/web-nginx\n")
        .stderr(predicate::str::contains("Deployed web revision 1 (nginx 1.0.0) to service map shop"));
    assert!(
        tmp.path()
            .join("gitops/shop/deployment-web-nginx.yaml")
            .is_file()
    );
    cmd()
        .args([
            "upgrade",
            "web",
            "catalog/nginx",
            "-n",
            "shop",
            "--target",
            &target,
            "--set",
            "replicas=4",
        ])
        .assert()
        .success()
        .stdout("update     Deployment.apps/shop/web-nginx\n");
    let dep =
        std::fs::read_to_string(tmp.path().join("gitops/shop/deployment-web-nginx.yaml")).unwrap();
    assert!(dep.contains("replicas: 4"), "{dep}");
    let out = cmd()
        .args(["list", "-n", "shop", "--target", &target, "-o", "json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["revision"], 2);
    assert_eq!(rows[0]["status"], "deployed");
    cmd()
        .args(["history", "web", "-n", "shop", "--target", &target])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("superseded")
                .and(predicate::str::contains("Upgrade complete")),
        );
    cmd()
        .args(["uninstall", "web", "-n", "shop", "--target", &target])
        .assert()
        .success();
    assert!(
        !tmp.path()
            .join("gitops/shop/deployment-web-nginx.yaml")
            .exists()
    );
}

#[test]
fn an_upgrade_that_changes_nothing_makes_no_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", tmp.path().join("g").display());
    let run = |args: &[&str]| {
        let mut c = crate::support::cmd();
        c.args(args).args(["-n", "shop", "--target", &target]);
        c
    };
    let upgrade = ["upgrade", "--install", "shop", "catalog/redis"];
    run(&upgrade).assert().success();
    run(&upgrade)
        .assert()
        .success()
        .stdout("")
        .stderr("release `shop` is up to date (revision 1, nothing changed)\n");
    // The same values given again change nothing either; a changed value does.
    run(&["upgrade", "shop", "catalog/redis", "--reuse-values"])
        .assert()
        .success()
        .stderr("release `shop` is up to date (revision 1, nothing changed)\n");
    let mut forced = upgrade.to_vec();
    forced.push("--force");
    run(&forced)
        .assert()
        .success()
        .stderr(predicates::str::contains("Deployed shop revision 2"));
    let out = run(&["history", "shop", "-o", "json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn rollback_returns_to_an_earlier_revision_and_values_are_masked() {
    use cocktail_pkg::ops::get::{revision, values_of};
    use cocktail_pkg::ops::rollback::{RollbackOptions, rollback};
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let (_b, v2) = package("2.0.0", 5);
    deploy(&t, &opts(&v2, UPGRADE, 200)).unwrap();
    let (service_map, release) = names();
    let out = rollback(
        &t,
        &RollbackOptions {
            release: release.clone(),
            service_map: service_map.clone(),
            to: None,
            dry_run: false,
            history_max: 10,
            holder: "t".into(),
            now: 300,
            apply: ApplySettings::default(),
        },
    )
    .unwrap();
    assert_eq!(out.record.revision, 3);
    assert_eq!(out.record.package.version.to_string(), "1.0.0");
    assert_eq!(out.record.description, "Rollback to 1");
    assert_eq!(
        statuses(&t),
        [
            (1, Status::Superseded),
            (2, Status::Superseded),
            (3, Status::Deployed)
        ]
    );
    let cm = t
        .objects()
        .into_iter()
        .find(|(id, _)| id.kind == "ConfigMap")
        .unwrap()
        .1;
    assert_eq!(cm["data"]["replicas"], "1");
    // No revision 9; the values show the generated password masked unless asked.
    assert!(revision(&t, &service_map, &release, Some(9)).is_err());
    let current = revision(&t, &service_map, &release, None).unwrap();
    assert_eq!(values_of(&current, false)["auth"]["password"], "*****");
    assert_eq!(
        values_of(&current, true)["auth"]["password"]
            .as_str()
            .unwrap()
            .len(),
        24
    );
}

#[test]
fn diff_shows_changes_and_exits_2() {
    use predicates::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let target = format!("dir:{}", tmp.path().join("g").display());
    let run = |args: &[&str]| {
        let mut c = crate::support::cmd();
        c.args(args).args(["-n", "shop", "--target", &target, "-q"]);
        c
    };
    run(&["install", "cache", "catalog/redis"])
        .assert()
        .success();
    run(&[
        "diff",
        "upgrade",
        "cache",
        "catalog/redis",
        "--reuse-values",
    ])
    .assert()
    .code(0)
    .stdout("");
    run(&[
        "diff",
        "upgrade",
        "cache",
        "catalog/redis",
        "--reuse-values",
        "--set",
        "metrics.enabled=true",
    ])
    .assert()
    .code(2)
    .stdout(predicate::str::starts_with(
        "update     Service/shop/cache-redis\nupdate     StatefulSet.apps/shop/cache-redis\n",
    ))
    .stdout(predicate::str::contains("+  - name: metrics"));
    run(&[
        "upgrade",
        "cache",
        "catalog/redis",
        "--reuse-values",
        "--set",
        "auth.password=changed",
    ])
    .assert()
    .success()
    .stderr("");
    // Secret values never appear in a diff, only that they changed.
    let out = run(&["diff", "rollback", "cache"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("redis-password: (hidden, "), "{text}");
    assert!(
        !text.contains("changed") && !text.contains("Y2hhbmdlZA"),
        "{text}"
    );
}

/// A package with a Deployment (image from values) and a Service.
fn web_package(version: &str, image: &str) -> (tempfile::TempDir, PathBuf) {
    PackageBuilder::new("app")
        .file(
            "package.yaml",
            &format!("apiVersion: cocktail-pkg/v1\nname: app\nversion: {version}\n"),
        )
        .file("values.yaml", &format!("image: {image}\nreplicas: 2\n"))
        .file(
            "templates/web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {cocktail.io/workload-group: front}\nspec:\n  replicas: {{ values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: {{ values.image }}\n        - name: log\n          image: fluent-bit:3.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata: {a: b}\n",
        )
        .write()
}

fn waiting(atomic: bool) -> ApplySettings {
    ApplySettings {
        force_conflicts: false,
        wait: Some(cocktail_pkg::ops::wait::WaitOptions {
            timeout: std::time::Duration::from_millis(300),
            interval: std::time::Duration::from_millis(20),
        }),
        atomic,
        soak: None,
        no_hooks: false,
        hook_timeout: None,
    }
}

fn image_of(t: &MemoryTarget) -> String {
    t.objects()
        .iter()
        .find(|(id, _)| id.kind == "Deployment")
        .and_then(|(_, o)| o.pointer("/spec/template/spec/containers/0/image"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn wait_succeeds_when_ready_and_fails_the_revision_on_timeout() {
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    let mut rounds = 0;
    let mut o = opts(&v1, DeployMode::Install, 100);
    o.apply = waiting(false);
    cocktail_pkg::ops::deploy::deploy_with(&t, &o, &mut |_| rounds += 1).unwrap();
    assert!(rounds >= 1, "the wait observed the objects");
    assert_eq!(statuses(&t), [(1, Status::Deployed)]);

    t.set_knobs(Knobs {
        never_ready: true,
        ..Knobs::default()
    });
    let (_b, v2) = web_package("1.1.0", "nginx:1.28");
    let mut o = opts(&v2, UPGRADE, 200);
    o.apply = waiting(false);
    let err = deploy(&t, &o).unwrap_err();
    assert!(
        err.to_string().contains("timed out") && err.to_string().contains("Deployment/web"),
        "{err}"
    );
    assert_eq!(statuses(&t), [(1, Status::Deployed), (2, Status::Failed)]);
    assert_eq!(
        image_of(&t),
        "nginx:1.28",
        "without --atomic the failed revision stays applied"
    );
}

#[test]
fn atomic_upgrade_rolls_back_after_an_injected_apply_failure() {
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    t.set_knobs(Knobs {
        fail_apply_nth: Some(2),
        ..Knobs::default()
    });
    let (_b, v2) = web_package("1.1.0", "nginx:1.28");
    let mut o = opts(&v2, UPGRADE, 200);
    o.apply = waiting(true);
    let err = deploy(&t, &o).unwrap_err();
    let text = cocktail_pkg::error_chain(&err);
    assert!(text.contains("injected failure"), "{text}");
    assert!(
        text.contains("--atomic rolled back to revision 1 (now revision 3)"),
        "{text}"
    );
    assert_eq!(
        statuses(&t),
        [
            (1, Status::Superseded),
            (2, Status::Failed),
            (3, Status::Deployed)
        ]
    );
    assert_eq!(image_of(&t), "nginx:1.27");
    let (sm, rel) = names();
    let h = history(&t, &sm, &rel).unwrap();
    assert_eq!(h[2].1, "Rollback to 1 (--atomic: revision 2 failed)");
    assert_eq!(h[2].0.version, "1.0.0");
}

#[test]
fn atomic_first_install_that_never_gets_ready_is_removed() {
    let t = MemoryTarget::new();
    t.set_knobs(Knobs {
        never_ready: true,
        ..Knobs::default()
    });
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    let mut o = opts(&v1, DeployMode::Install, 100);
    o.apply = waiting(true);
    let err = deploy(&t, &o).unwrap_err();
    assert!(
        cocktail_pkg::error_chain(&err).starts_with(
            "the install failed; --atomic removed it (revision 1 is kept in history as uninstalled): timed out"
        ),
        "{err}"
    );
    assert!(t.objects().is_empty(), "{:?}", t.objects().keys());
    assert_eq!(statuses(&t), [(1, Status::Uninstalled)]);
    assert!(list(&t, None).unwrap().is_empty());
    // Installing again works and starts a new revision.
    t.set_knobs(Knobs::default());
    deploy(&t, &opts(&v1, DeployMode::Install, 200)).unwrap();
    assert_eq!(
        statuses(&t),
        [(1, Status::Uninstalled), (2, Status::Deployed)]
    );
}

#[test]
fn set_image_makes_a_revision_and_restart_stamps_the_pod_template() {
    use cocktail_pkg::ops::restart::{RestartOptions, restart};
    use cocktail_pkg::ops::set_image::{SetImageOptions, set_image};
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let (sm, rel) = names();
    let mut si = SetImageOptions {
        release: rel.clone(),
        service_map: sm.clone(),
        workload: "web".into(),
        container: None,
        image: "nginx:1.27.9".into(),
        dry_run: false,
        history_max: 10,
        holder: "tester".into(),
        now: 200,
        apply: ApplySettings::default(),
    };
    let err = set_image(&t, &si, &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("several containers (web, log)"),
        "{err}"
    );
    si.workload = "deployment/web".into();
    si.container = Some("web".into());
    let out = set_image(&t, &si, &mut |_| {}).unwrap();
    assert_eq!(
        out.record.description,
        "Set image Deployment/web/web=nginx:1.27.9"
    );
    assert_eq!(image_of(&t), "nginx:1.27.9");
    assert_eq!(
        statuses(&t),
        [(1, Status::Superseded), (2, Status::Deployed)]
    );
    si.container = Some("nope".into());
    assert!(
        set_image(&t, &si, &mut |_| {})
            .unwrap_err()
            .to_string()
            .contains("no container `nope`")
    );

    let restarted = restart(
        &t,
        &RestartOptions {
            release: rel,
            service_map: sm,
            workload: None,
            holder: "tester".into(),
            now: 300,
            wait: None,
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(restarted.len(), 1);
    let (_, dep) = t
        .objects()
        .into_iter()
        .find(|(id, _)| id.kind == "Deployment")
        .unwrap();
    assert_eq!(
        dep.pointer("/spec/template/metadata/annotations/cocktail.io~1restartedAt"),
        Some(&serde_json::json!("1970-01-01T00:05:00Z"))
    );
    assert_eq!(statuses(&t).len(), 2, "restart makes no revision");
}

#[test]
fn service_maps_are_labelled_namespaces_and_delete_refuses_with_releases() {
    use cocktail_pkg::ops::service_map::{CreateOptions, Created, create, delete, list_maps, show};
    let t = MemoryTarget::new();
    let (sm, _) = names();
    let created = create(
        &t,
        &CreateOptions {
            name: sm.clone(),
            display_name: Some("Shop".into()),
            description: Some("The web shop".into()),
        },
    )
    .unwrap();
    assert_eq!(created, Created::Created);
    assert!(
        create(
            &t,
            &CreateOptions {
                name: sm.clone(),
                display_name: None,
                description: None
            }
        )
        .is_err()
    );
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let rows = list_maps(&t).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].display_name.as_str(), rows[0].releases),
        ("Shop", 1)
    );
    let view = show(&t, &sm, 100).unwrap();
    assert_eq!(view.releases.len(), 1);
    assert_eq!(view.workload_groups[0].0, "front");
    assert_eq!(view.config.len(), 1);
    let err = delete(&t, &sm, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("still has 1 installed release(s): web"),
        "{err}"
    );
    assert!(t.objects().len() > 1);
    delete(&t, &sm, true).unwrap();
    assert!(t.objects().is_empty());
    assert!(list(&t, None).unwrap().is_empty());
}

#[test]
fn a_workload_that_breaks_during_the_soak_is_rolled_back() {
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    // Ready for the wait's first round (2 objects), broken from then on.
    t.set_knobs(Knobs {
        unready_after_reads: Some(2),
        ..Knobs::default()
    });
    let (_b, v2) = web_package("1.1.0", "nginx:1.28");
    let mut o = opts(&v2, UPGRADE, 200);
    o.apply = waiting(true);
    o.apply.soak = Some(std::time::Duration::from_millis(200));
    let err = deploy(&t, &o).unwrap_err();
    let text = cocktail_pkg::error_chain(&err);
    assert!(text.contains("soak failed"), "{text}");
    assert!(text.contains("Deployment/web"), "{text}");
    assert!(
        text.contains("--atomic rolled back to revision 1"),
        "{text}"
    );
    t.set_knobs(Knobs::default());
    assert_eq!(image_of(&t), "nginx:1.27");
    assert_eq!(
        statuses(&t),
        [
            (1, Status::Superseded),
            (2, Status::Failed),
            (3, Status::Deployed)
        ]
    );
}

#[test]
fn a_panic_during_the_apply_fails_the_revision_and_gives_the_lease_back() {
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    t.set_knobs(Knobs {
        panic_apply_nth: Some(1),
        ..Knobs::default()
    });
    let (_b, v2) = web_package("1.1.0", "nginx:1.28");
    let err = deploy(&t, &opts(&v2, UPGRADE, 200)).unwrap_err();
    assert!(
        matches!(err, cocktail_pkg::ops::OpError::Panicked(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("injected panic applying"), "{err}");
    assert_eq!(statuses(&t), [(1, Status::Deployed), (2, Status::Failed)]);
    let (sm, rel) = names();
    assert!(
        t.lease(&sm, &rel).unwrap().is_none(),
        "the lease was given back"
    );
    // With --atomic the panic is undone like any failure.
    t.set_knobs(Knobs {
        panic_apply_nth: Some(1),
        ..Knobs::default()
    });
    let mut o = opts(&v2, UPGRADE, 300);
    o.apply = waiting(true);
    let err = cocktail_pkg::error_chain(&deploy(&t, &o).unwrap_err());
    assert!(err.contains("--atomic rolled back to revision 1"), "{err}");
    t.set_knobs(Knobs::default());
    deploy(&t, &opts(&v2, UPGRADE, 400)).unwrap();
}

#[test]
fn huge_timeouts_and_soaks_do_not_overflow_the_clock() {
    let t = MemoryTarget::new();
    let (_a, v1) = web_package("1.0.0", "nginx:1.27");
    let mut o = opts(&v1, DeployMode::Install, 100);
    // `--timeout 18446744073709551615`: no deadline, and everything is ready at once.
    o.apply = waiting(false);
    o.apply.wait.as_mut().unwrap().timeout = std::time::Duration::MAX;
    deploy(&t, &o).unwrap();
    // A soak too long for the clock ends only when a workload breaks.
    t.set_knobs(Knobs {
        unready_after_reads: Some(2),
        ..Knobs::default()
    });
    let (_b, v2) = web_package("1.1.0", "nginx:1.28");
    let mut o = opts(&v2, UPGRADE, 200);
    o.apply = waiting(false);
    o.apply.wait.as_mut().unwrap().timeout = std::time::Duration::MAX;
    o.apply.soak = Some(std::time::Duration::MAX);
    let err = deploy(&t, &o).unwrap_err().to_string();
    assert!(err.contains("soak failed"), "{err}");
    assert_eq!(statuses(&t), [(1, Status::Deployed), (2, Status::Failed)]);
}

#[test]
fn a_revision_number_at_the_end_of_the_range_is_an_error_not_an_overflow() {
    let t = MemoryTarget::new();
    let (_a, v1) = package("1.0.0", 1);
    deploy(&t, &opts(&v1, DeployMode::Install, 100)).unwrap();
    let (sm, rel) = names();
    let mut last = t.records(&sm, &rel).unwrap().pop().unwrap();
    t.delete_record(&sm, &rel, last.revision).unwrap();
    last.revision = u64::MAX;
    t.write_record(&last).unwrap();
    let (_b, v2) = package("1.1.0", 2);
    let err = deploy(&t, &opts(&v2, UPGRADE, 200))
        .unwrap_err()
        .to_string();
    assert!(err.contains("the last there can be"), "{err}");
}
