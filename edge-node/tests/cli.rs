//! The `edge` command line itself: version, help and argument errors.
//! (Serving workers is tested through HTTP in the workspace's `tests` crate.)

use std::process::Command;

fn edge() -> Command {
  Command::new(env!("CARGO_BIN_EXE_edge"))
}

#[test]
fn version_names_the_engine() {
  let out = edge().arg("--version").output().unwrap();
  assert!(out.status.success());
  let text = String::from_utf8(out.stdout).unwrap();
  assert!(text.starts_with("edge 0."), "{text}");
  assert!(text.contains("engine: quickjs") || text.contains("engine: v8"), "{text}");
}

#[test]
fn help_lists_the_dev_command() {
  let out = edge().arg("--help").output().unwrap();
  assert!(out.status.success());
  assert!(String::from_utf8(out.stdout).unwrap().contains("dev"));
}

#[test]
fn a_bad_listen_address_is_a_usage_error() {
  let out = edge().args(["dev", ".", "--listen", "not-an-address"]).output().unwrap();
  assert_eq!(out.status.code(), Some(2));
  let text = String::from_utf8(out.stderr).unwrap();
  assert!(text.contains("--listen"), "{text}");
}

#[test]
fn a_missing_worker_path_is_reported() {
  let out = edge().args(["dev", "/definitely/not/here", "--listen", "127.0.0.1:0"]).output().unwrap();
  assert_eq!(out.status.code(), Some(1));
  let text = String::from_utf8(out.stderr).unwrap();
  assert!(text.contains("/definitely/not/here") && text.contains("No such file"), "{text}");
}
