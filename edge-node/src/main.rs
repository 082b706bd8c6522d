//! `edge`: the command line of the edge platform (`edge_node::cli`).

fn main() -> std::process::ExitCode {
  edge_node::cli::commands::main()
}
