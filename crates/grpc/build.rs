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
    let mut builder = tonic_prost_build::configure();
    // The messages of `Publisher.kind` convert to and from the publisher model through
    // serde (see `src/convert.rs`): found in the descriptor, so a platform's new
    // message needs no line here.
    builder = builder.type_attribute(
        ".trustmint.v1.Publisher.kind",
        "#[derive(serde::Serialize, serde::Deserialize)] #[serde(tag = \"kind\", rename_all = \"lowercase\")]",
    );
    for message in publisher_kind_messages(&fds) {
        builder =
            builder.type_attribute(message, "#[derive(serde::Serialize, serde::Deserialize)]");
    }
    builder
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}

/// The fully qualified names of the messages `Publisher.kind` can hold.
fn publisher_kind_messages(fds: &prost_types::FileDescriptorSet) -> Vec<String> {
    fds.file
        .iter()
        .flat_map(|file| &file.message_type)
        .filter(|message| message.name() == "Publisher")
        .flat_map(|message| {
            let kind = message
                .oneof_decl
                .iter()
                .position(|oneof| oneof.name() == "kind");
            message
                .field
                .iter()
                .filter(move |field| {
                    kind.is_some() && field.oneof_index.map(|i| i as usize) == kind
                })
                .map(|field| field.type_name().to_owned())
        })
        .collect()
}
