fn main() {
    eprintln!("webex-recordings: the command line is being wired up");
    std::process::exit(2);
}
