//! Generates the tonic services from `proto/` with protox (a pure-Rust protobuf
//! compiler), so no `protoc` is needed on the machine, and writes the encoded file
//! descriptor set that server reflection serves.

use std::path::PathBuf;

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not with env!(): a build script binary is reused across checkouts
    // that share a target directory, and a baked-in path would point at another one.
    let proto_root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());
    let fds = protox::compile(["trustmint/v1/trustmint.proto"], [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("trustmint_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
