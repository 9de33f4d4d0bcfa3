//! napi-build's link settings for a Node-API addon (on Linux, none: Node-API symbols are
//! left for the Node process that loads the addon to resolve).

fn main() {
    napi_build::setup();
}
