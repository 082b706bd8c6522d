//! What a worker may reach outside its isolate.
//!
//! deno_fetch asks a [`PermissionsContainer`] in the isolate's `OpState` before every
//! outbound request. A worker may `fetch` any network host; it may not read files
//! (`file:` URLs), the environment, or anything else the container guards.

use std::sync::Arc;

use deno_permissions::Permissions;
use deno_permissions::PermissionsContainer;
use deno_permissions::PermissionsOptions;
use deno_permissions::RuntimePermissionDescriptorParser;

/// The permissions of a worker's isolate.
pub fn outbound() -> PermissionsContainer {
  let parser = Arc::new(RuntimePermissionDescriptorParser::new(sys_traits::impls::RealSys));
  let options = PermissionsOptions {
    // An empty list grants every host (Deno's `--allow-net`).
    allow_net: Some(vec![]),
    prompt: false,
    ..Default::default()
  };
  let permissions = Permissions::from_options(parser.as_ref(), &options)
    .expect("a network-only permission set is always valid");
  PermissionsContainer::new(parser, permissions)
}
