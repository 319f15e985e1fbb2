//! The `resnet` command-line program; see `resnet --help`.

fn main() -> anyhow::Result<()> {
    resnet::train::cli::main()
}
