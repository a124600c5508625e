//! Shell completion scripts for `dfood`, generated from the clap
//! definition ([`crate::args::command`]) by `clap_complete`: printed by
//! `dfood completions SHELL`, and committed under `man/completions/` by
//! `cargo run -p tests --bin gen-man` (a test fails when they are stale).

use clap::ValueEnum;

/// The shells `dfood completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// bash (bash-completion): save as
    /// ~/.local/share/bash-completion/completions/dfood.
    Bash,
    /// zsh: save as _dfood in a directory of $fpath.
    Zsh,
    /// fish: save as ~/.config/fish/completions/dfood.fish.
    Fish,
}

impl Shell {
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    /// The file name each shell looks for (`dfood`, `_dfood`, `dfood.fish`
    /// are what bash-completion, zsh's compinit and fish load on demand).
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "dfood.bash",
            Shell::Zsh => "_dfood",
            Shell::Fish => "dfood.fish",
        }
    }

    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// The completion script for `shell`.
pub fn render(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::args::command();
    let mut out = Vec::new();
    clap_complete::generate(shell.generator(), &mut cmd, "dfood", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_commands() {
        for shell in Shell::ALL {
            let text = String::from_utf8(render(shell)).unwrap();
            for word in ["dfood", "order", "restaurant", "completions"] {
                assert!(text.contains(word), "{shell:?} lacks {word}");
            }
        }
        let bash = String::from_utf8(render(Shell::Bash)).unwrap();
        assert!(bash.contains("complete -F _dfood"), "{bash}");
        assert!(
            String::from_utf8(render(Shell::Zsh))
                .unwrap()
                .starts_with("#compdef dfood")
        );
        assert!(
            String::from_utf8(render(Shell::Fish))
                .unwrap()
                .contains("complete -c dfood")
        );
    }
}
