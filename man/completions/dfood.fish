# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dfood_global_optspecs
    string join \n endpoint= ca= server-name= o/output= config= timeout= token= h/help V/version
end

function __fish_dfood_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dfood_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dfood_using_subcommand
    set -l cmd (__fish_dfood_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dfood -n "__fish_dfood_needs_command" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_needs_command" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_needs_command" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_needs_command" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_needs_command" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_needs_command" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_needs_command" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_needs_command" -s V -l version -d 'Print version'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "status" -d 'Show the daemon\'s health: node, version, store and its revision, uptime'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "config" -d 'Show or change this client\'s settings (endpoint, CA, server name)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "signup" -d 'Create an account, and log in as it'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "login" -d 'Log in (password, or a service account\'s client credentials)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "logout" -d 'Log out: revoke the session on the daemon and delete the saved one'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "whoami" -d 'Show who you are logged in as'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "passwd" -d 'Change your password. Every session of your account ends (on every node, at once); this one continues with a new login'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "service-account" -d 'Service accounts for scripts (operators only)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "admin" -d 'Cluster administration: the first operator, signing keys, disabling and enabling accounts (operators)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "restaurant" -d 'Restaurants: create, list, show, open, close'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "staff" -d 'A restaurant\'s staff: add, remove, list (managers)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "menu" -d 'Show a restaurant\'s menu (`dfood menu trattoria`), or change it'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "order" -d 'Orders: place, status, list, cancel, track, and the kitchen\'s steps'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "report" -d 'A restaurant\'s sales per day and best-selling items, from the order archive (managers, operators)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "cluster" -d 'Operate the cluster: status, switchover, failover, pause, drain (operators)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "bench" -d 'Load generators: place orders, browse menus, follow events; and the same placement straight at the store, for comparison'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "board" -d 'The kitchen board: live tickets to bump through the line (a terminal UI)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "top" -d 'The operator dashboard: members, leader, lease TTLs, per-node load, store health, order sparklines, leader changes (a terminal UI; operators)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "completions" -d 'Print a shell completion script for dfood (bash, zsh or fish)'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "events" -d 'Stream a restaurant\'s events live (staff), for scripts and screens'
complete -c dfood -n "__fish_dfood_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand status" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand status" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand status" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand status" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand status" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand status" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -f -a "show" -d 'Print the effective settings and where each comes from'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -f -a "set" -d 'Set a setting in the config file: endpoint, ca or server_name'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -f -a "unset" -d 'Remove a setting from the config file'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -f -a "path" -d 'Print the config file\'s path'
complete -c dfood -n "__fish_dfood_using_subcommand config; and not __fish_seen_subcommand_from show set unset path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective settings and where each comes from'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a setting in the config file: endpoint, ca or server_name'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a setting from the config file'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file\'s path'
complete -c dfood -n "__fish_dfood_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand signup" -s u -l username -d '3-32 characters of a-z, 0-9, \'_\', \'.\' or \'-\'' -r
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand signup" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand signup" -l password-stdin -d 'Read the password from the first line of stdin (else DFOOD_PASSWORD, else a prompt when stdin is a terminal)'
complete -c dfood -n "__fish_dfood_using_subcommand signup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand login" -s u -l username -d 'Log in as this user (password grant)' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -l client-id -d 'Log in as this service account instead (client credentials); the secret comes from stdin with --password-stdin, else DFOOD_CLIENT_SECRET, else a prompt' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand login" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand login" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand login" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand login" -l password-stdin -d 'Read the password (or client secret) from the first line of stdin (else DFOOD_PASSWORD, else a prompt when stdin is a terminal)'
complete -c dfood -n "__fish_dfood_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand logout" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand logout" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -l password-stdin -d 'Read the current password, then the new one, from the first two lines of stdin (else DFOOD_PASSWORD and DFOOD_NEW_PASSWORD, else prompts when stdin is a terminal)'
complete -c dfood -n "__fish_dfood_using_subcommand passwd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -f -a "create" -d 'Create a service account; prints its client_id and client_secret (shown once: store it now). Scripts log in with `dfood login --client-id ID` and DFOOD_CLIENT_SECRET'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -f -a "delete" -d 'Delete a service account: its secret and every token it holds stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -f -a "rotate-secret" -d 'Give a service account a new secret (printed once); the old secret and every token issued with it stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and not __fish_seen_subcommand_from create delete rotate-secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from rotate-secret" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a service account; prints its client_id and client_secret (shown once: store it now). Scripts log in with `dfood login --client-id ID` and DFOOD_CLIENT_SECRET'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a service account: its secret and every token it holds stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "rotate-secret" -d 'Give a service account a new secret (printed once); the old secret and every token issued with it stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand service-account; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -f -a "bootstrap" -d 'Create the first operator with the one-time setup token dfoodd wrote to <data-dir>/setup-token, then log in as it'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -f -a "rotate-key" -d 'Make a new token signing key current (operators). Tokens signed with older keys stay valid until they expire, unless --revoke-old'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -f -a "disable" -d 'Disable an account (operators): it cannot log in, and its sessions and tokens are refused on every node at once'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -f -a "enable" -d 'Enable a disabled account again (operators); it logs in anew'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and not __fish_seen_subcommand_from bootstrap rotate-key disable enable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l token-file -d 'The setup token file (dfoodd logs its path)' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -s u -l username -d 'The operator\'s username' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -l password-stdin -d 'Read the password from the first line of stdin (else DFOOD_PASSWORD, else a prompt when stdin is a terminal)'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from bootstrap" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -l revoke-old -d 'Also delete every older key: tokens they signed are refused on every node within a second (clients renew theirs with their refresh tokens). For a key that may have leaked'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from rotate-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "bootstrap" -d 'Create the first operator with the one-time setup token dfoodd wrote to <data-dir>/setup-token, then log in as it'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "rotate-key" -d 'Make a new token signing key current (operators). Tokens signed with older keys stay valid until they expire, unless --revoke-old'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable an account (operators): it cannot log in, and its sessions and tokens are refused on every node at once'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Enable a disabled account again (operators); it logs in anew'
complete -c dfood -n "__fish_dfood_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "create" -d 'Create a restaurant; you become its manager. It starts closed'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "list" -d 'List restaurants (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "show" -d 'Show one restaurant'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "open" -d 'Start taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "close" -d 'Stop taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "set" -d 'Rename a restaurant, or bound what a line or an order may cost (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and not __fish_seen_subcommand_from create list show open close set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l name -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l currency -d 'ISO 4217 currency of every price' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l acceptance-timeout -d 'Orders not accepted within this time expire (e.g. 5m, 90s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from open" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from close" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l name -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l max-line-total -d 'Most one line (unit price × quantity) may cost' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l max-order-total -d 'Most an order may cost' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a restaurant; you become its manager. It starts closed'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "list" -d 'List restaurants (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one restaurant'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "open" -d 'Start taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "close" -d 'Stop taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "set" -d 'Rename a restaurant, or bound what a line or an order may cost (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand restaurant; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -f -a "add" -d 'Give a user a role at a restaurant (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -f -a "remove" -d 'Remove a user from a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -f -a "list" -d 'List a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and not __fish_seen_subcommand_from add remove list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l role -r -f -a "kitchen\t''
manager\t''"
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "add" -d 'Give a user a role at a restaurant (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a user from a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand staff; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "show" -d 'Show a restaurant\'s menu (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "import" -d 'Import items from a CSV or JSON file (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "set" -d 'Change an item\'s price, station or stock (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "86" -d 'Mark an item sold out ("86 it"; kitchen staff or manager)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "un86" -d 'Make an 86\'d item available again'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and not __fish_seen_subcommand_from show import set 86 un86 help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l format -d 'Default: from the file extension' -r -f -a "csv\t''
json\t''"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -l replace -d 'Replace the whole menu instead of adding/updating items'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l price -d 'New price, e.g. 12.50' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l station -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l stock -d 'Units left' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -l unlimited -d 'Stop counting stock for this item'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from 86" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from un86" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a restaurant\'s menu (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import items from a CSV or JSON file (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change an item\'s price, station or stock (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "86" -d 'Mark an item sold out ("86 it"; kitchen staff or manager)'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "un86" -d 'Make an 86\'d item available again'
complete -c dfood -n "__fish_dfood_using_subcommand menu; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "place" -d 'Place an order and pay for it'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "status" -d 'Show an order'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "list" -d 'List your orders, or a restaurant\'s (staff)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "cancel" -d 'Cancel your order (before the kitchen accepts it)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "track" -d 'Follow an order live until it is done'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "accept" -d 'Kitchen: accept an order (captures the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "reject" -d 'Kitchen: reject an order (voids the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "station-ready" -d 'Kitchen: a station\'s lines of an order are ready (or not, --undo)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "start" -d 'Kitchen: start preparing an accepted order'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "ready" -d 'Kitchen: the order is ready'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "complete" -d 'Kitchen: the order was handed over'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "refund" -d 'Manager: refund a captured payment'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "rush" -d 'Kitchen: flag an open order as a rush (boards show it first), or clear the flag with --off. Setting the flag it already has changes nothing'
complete -c dfood -n "__fish_dfood_using_subcommand order; and not __fish_seen_subcommand_from place status list cancel track accept reject station-ready start ready complete refund rush help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -s i -l item -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l note -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l pay -d 'Payment method token; the sandbox gateway\'s test methods are pm_card_visa, pm_card_mastercard, pm_card_declined, pm_card_insufficient_funds, pm_card_timeout' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l idempotency-key -d 'Reuse a key to make retries safe [default: a new random key]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l table -d 'Dine-in at this table (shown on the kitchen\'s ticket)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l takeout -d 'Takeout, called out by this name' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l delivery -d 'Delivery, for this name' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from place" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l state -d 'Only orders in this state (repeatable)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l limit -d '--history: orders per page (1-100) [default: 20]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l cursor -d '--history: where the page starts (the `next` of the page before)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -l history -d 'Your past orders, from the archive'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from track" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from accept" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l reason -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from reject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l station -d 'The station whose lines are done (as on the menu)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -l undo -d 'Mark them not ready again'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from station-ready" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from ready" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l if-version -d 'Only if the order is still at this version (its `version`, as last seen): refused with nothing done if it moved meanwhile' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from refund" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -l off
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from rush" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "place" -d 'Place an order and pay for it'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show an order'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "list" -d 'List your orders, or a restaurant\'s (staff)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel your order (before the kitchen accepts it)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "track" -d 'Follow an order live until it is done'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "accept" -d 'Kitchen: accept an order (captures the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "reject" -d 'Kitchen: reject an order (voids the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "station-ready" -d 'Kitchen: a station\'s lines of an order are ready (or not, --undo)'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "start" -d 'Kitchen: start preparing an accepted order'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "ready" -d 'Kitchen: the order is ready'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "complete" -d 'Kitchen: the order was handed over'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "refund" -d 'Manager: refund a captured payment'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "rush" -d 'Kitchen: flag an open order as a rush (boards show it first), or clear the flag with --off. Setting the flag it already has changes nothing'
complete -c dfood -n "__fish_dfood_using_subcommand order; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -f -a "sales" -d 'Per day: orders by final state, revenue, refunds, and the average and 90th percentile of acceptance-to-ready and placement-to-completion'
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -f -a "items" -d 'Units sold and revenue per item, over completed orders'
complete -c dfood -n "__fish_dfood_using_subcommand report; and not __fish_seen_subcommand_from sales items help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -s r -l restaurant -d 'The restaurant' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l from -d 'First day, YYYY-MM-DD (UTC) [default: 30 days before --to]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l to -d 'Last day, included, YYYY-MM-DD (UTC) [default: today]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from sales" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -s r -l restaurant -d 'The restaurant' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l from -d 'First day, YYYY-MM-DD (UTC) [default: 30 days before --to]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l to -d 'Last day, included, YYYY-MM-DD (UTC) [default: today]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from items" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "sales" -d 'Per day: orders by final state, revenue, refunds, and the average and 90th percentile of acceptance-to-ready and placement-to-completion'
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "items" -d 'Units sold and revenue per item, over completed orders'
complete -c dfood -n "__fish_dfood_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "status" -d 'Members, roles, leader and fencing token, lease TTLs, versions, store health'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "members" -d 'The cluster\'s members'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "switchover" -d 'Move leadership in a healthy cluster to NODE, or to the best candidate'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "failover" -d 'Force leadership to NODE when the leader is unhealthy'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "pause" -d 'Maintenance mode: no automatic leader change (duties keep running)'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "resume" -d 'Leave maintenance mode'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "drain" -d 'Move NODE\'s clients away (it stops taking connections), and wait until the node refuses new connections and its clients have gone'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and not __fish_seen_subcommand_from status members switchover failover pause resume drain help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from members" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l to -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l scheduled -d 'When: an RFC 3339 time (2026-11-24T05:00:00Z) or a delay (10m)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from switchover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l to -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from failover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l wait -d 'Give up waiting after this long' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -l undo -d 'Take connections again instead (waits until the node says it does: up to about a second)'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from drain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "status" -d 'Members, roles, leader and fencing token, lease TTLs, versions, store health'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "members" -d 'The cluster\'s members'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "switchover" -d 'Move leadership in a healthy cluster to NODE, or to the best candidate'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "failover" -d 'Force leadership to NODE when the leader is unhealthy'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Maintenance mode: no automatic leader change (duties keep running)'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Leave maintenance mode'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "drain" -d 'Move NODE\'s clients away (it stops taking connections), and wait until the node refuses new connections and its clients have gone'
complete -c dfood -n "__fish_dfood_using_subcommand cluster; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -f -a "place" -d 'Place orders as many customers at a seeded restaurant, and report throughput, latency percentiles and errors'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -f -a "read" -d 'Browse the menu (menu.get, no login) as fast as the load allows'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -f -a "track" -d 'N subscribers follow restaurant:<id> while orders are placed; reports commit-to-receipt latency of the order events'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and not __fish_seen_subcommand_from place read track help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s c -l concurrency -d 'Requests in flight (closed loop); with --rate, the most allowed in flight' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l rate -d 'Open loop: send this many requests per second whatever the answers take; latency counts from each request\'s intended send time' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s d -l duration -d 'Run this long (default 10s unless --count is given)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s n -l count -d 'Stop after this many requests' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l connections -d 'QUIC connections (sessions) to spread the load over; each moves to a random cluster member once it learns them [default: min(4, concurrency)]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l rss-pid -d 'Sample the resident memory (VmRSS) of this local process (e.g. a dfoodd) during the run; repeat for several. The report lists the series and its growth (for soak runs)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l rss-every -d 'Time between two RSS samples' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s r -l restaurant -d 'Restaurant id to place orders at (created and seeded if missing)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l restaurants -d 'Spread orders over this many restaurants (<id>-1..<id>-N) instead of one: a restaurant\'s ticket counter is a hot key' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l manager -d 'Manager account that creates and seeds the restaurant(s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l password -d 'Password of the manager and customer accounts (created with it)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l acceptance-timeout -d 'Orders not accepted within this long expire (the leader voids their payment). The default keeps every order open during a run; a soak uses a short one, so the open set stays bounded and only the load is constant. Applies to restaurants this run creates' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l customers -d 'Customer accounts to place orders as' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l customer-prefix -d 'Customer usernames are <prefix>-1, <prefix>-2, ...' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l pay -d 'Payment method of every order' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l rounds -d 'With --compare: run the pair this many times, the store first in odd rounds and the daemons first in even ones, each for the whole --duration/--count, and report the median of the rounds\' ratios (each round\'s are listed too). On a shared machine two runs in a row can differ by a third; alternating cancels the drift' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l etcd -d 'etcd endpoints for --raw-store / --compare (comma-separated)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l store -d 'Embedded store file for --raw-store / --compare [default: a new temporary file]. Not the file of a running dfoodd: it is locked' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l store-every -d 'Sample the hot store (size, bytes in use, keys) and the archive\'s rows this often during the run, from `cluster.status`, as the operator --operator (password --password): growth runs' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l operator -d 'An operator account (password --password), for --store-every and for the cluster-wide figures of the placements: every node\'s placements, lost races, store transactions and CPU, from `cluster.top` before and after the run' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l no-progress -d 'Do not draw the progress bar (it is never drawn when stderr is not a terminal, nor with --output json)'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l skip-setup -d 'Use the restaurant as it is: no account, menu or open step'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l raw-store -d 'Place straight at the store instead of through dfoodd'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -l compare -d 'Run --raw-store and then through dfoodd, and print the ratio'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from place" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s c -l concurrency -d 'Requests in flight (closed loop); with --rate, the most allowed in flight' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l rate -d 'Open loop: send this many requests per second whatever the answers take; latency counts from each request\'s intended send time' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s d -l duration -d 'Run this long (default 10s unless --count is given)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s n -l count -d 'Stop after this many requests' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l connections -d 'QUIC connections (sessions) to spread the load over; each moves to a random cluster member once it learns them [default: min(4, concurrency)]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l rss-pid -d 'Sample the resident memory (VmRSS) of this local process (e.g. a dfoodd) during the run; repeat for several. The report lists the series and its growth (for soak runs)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l rss-every -d 'Time between two RSS samples' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s r -l restaurant -d 'Restaurant id to place orders at (created and seeded if missing)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l restaurants -d 'Spread orders over this many restaurants (<id>-1..<id>-N) instead of one: a restaurant\'s ticket counter is a hot key' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l manager -d 'Manager account that creates and seeds the restaurant(s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l password -d 'Password of the manager and customer accounts (created with it)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l acceptance-timeout -d 'Orders not accepted within this long expire (the leader voids their payment). The default keeps every order open during a run; a soak uses a short one, so the open set stays bounded and only the load is constant. Applies to restaurants this run creates' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l no-progress -d 'Do not draw the progress bar (it is never drawn when stderr is not a terminal, nor with --output json)'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -l skip-setup -d 'Use the restaurant as it is: no account, menu or open step'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from read" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s c -l concurrency -d 'Requests in flight (closed loop); with --rate, the most allowed in flight' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l rate -d 'Open loop: send this many requests per second whatever the answers take; latency counts from each request\'s intended send time' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s d -l duration -d 'Run this long (default 10s unless --count is given)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s n -l count -d 'Stop after this many requests' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l connections -d 'QUIC connections (sessions) to spread the load over; each moves to a random cluster member once it learns them [default: min(4, concurrency)]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l rss-pid -d 'Sample the resident memory (VmRSS) of this local process (e.g. a dfoodd) during the run; repeat for several. The report lists the series and its growth (for soak runs)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l rss-every -d 'Time between two RSS samples' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s r -l restaurant -d 'Restaurant id to place orders at (created and seeded if missing)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l restaurants -d 'Spread orders over this many restaurants (<id>-1..<id>-N) instead of one: a restaurant\'s ticket counter is a hot key' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l manager -d 'Manager account that creates and seeds the restaurant(s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l password -d 'Password of the manager and customer accounts (created with it)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l acceptance-timeout -d 'Orders not accepted within this long expire (the leader voids their payment). The default keeps every order open during a run; a soak uses a short one, so the open set stays bounded and only the load is constant. Applies to restaurants this run creates' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l subscribers -d 'Subscribers following restaurant:<id> (as the manager)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l customers -d 'Customer accounts placing the orders' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l customer-prefix -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l no-progress -d 'Do not draw the progress bar (it is never drawn when stderr is not a terminal, nor with --output json)'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -l skip-setup -d 'Use the restaurant as it is: no account, menu or open step'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from track" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "place" -d 'Place orders as many customers at a seeded restaurant, and report throughput, latency percentiles and errors'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "read" -d 'Browse the menu (menu.get, no login) as fast as the load allows'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "track" -d 'N subscribers follow restaurant:<id> while orders are placed; reports commit-to-receipt latency of the order events'
complete -c dfood -n "__fish_dfood_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand board" -s r -l restaurant -d 'The restaurant whose kitchen this is (you must be its staff)' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l station -d 'Show only this station\'s items (grill, fry, cold...); `s` cycles stations on the board. Default: every station (expo view)' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l warn-after -d 'A ticket older than this turns yellow' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l late-after -d 'A ticket older than this turns red' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand board" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand board" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand board" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand board" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand top" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand top" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand top" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand top" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand top" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand top" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand top" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand completions" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand events" -s r -l restaurant -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -l from -d 'Start from this store revision (replays what happened since)' -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -l endpoint -d 'Daemon(s) to talk to: HOST:PORT, or a comma-separated list of seeds (the rest of the cluster is learned from them; dfood moves to another node when its node fails) [default: 127.0.0.1:7400]' -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -l ca -d 'Cluster CA certificate (PEM) to verify the daemon against' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand events" -l server-name -d 'TLS name to verify in the daemon\'s certificate [default: dfoodd]' -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -s o -l output -d 'Output format' -r -f -a "human\t'Tables and sentences for people'
json\t'One JSON document per command, stable shapes for scripts'"
complete -c dfood -n "__fish_dfood_using_subcommand events" -l config -d 'Config file [default: $XDG_CONFIG_HOME/dfood/config.toml]' -r -F
complete -c dfood -n "__fish_dfood_using_subcommand events" -l timeout -d 'Give up on a request after this long (e.g. 500ms, 5s)' -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -l token -d 'Access token to use instead of the saved login (for scripts)' -r
complete -c dfood -n "__fish_dfood_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "status" -d 'Show the daemon\'s health: node, version, store and its revision, uptime'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "config" -d 'Show or change this client\'s settings (endpoint, CA, server name)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "signup" -d 'Create an account, and log in as it'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "login" -d 'Log in (password, or a service account\'s client credentials)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "logout" -d 'Log out: revoke the session on the daemon and delete the saved one'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "whoami" -d 'Show who you are logged in as'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "passwd" -d 'Change your password. Every session of your account ends (on every node, at once); this one continues with a new login'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "service-account" -d 'Service accounts for scripts (operators only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "admin" -d 'Cluster administration: the first operator, signing keys, disabling and enabling accounts (operators)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "restaurant" -d 'Restaurants: create, list, show, open, close'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "staff" -d 'A restaurant\'s staff: add, remove, list (managers)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "menu" -d 'Show a restaurant\'s menu (`dfood menu trattoria`), or change it'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "order" -d 'Orders: place, status, list, cancel, track, and the kitchen\'s steps'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "report" -d 'A restaurant\'s sales per day and best-selling items, from the order archive (managers, operators)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "cluster" -d 'Operate the cluster: status, switchover, failover, pause, drain (operators)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "bench" -d 'Load generators: place orders, browse menus, follow events; and the same placement straight at the store, for comparison'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "board" -d 'The kitchen board: live tickets to bump through the line (a terminal UI)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "top" -d 'The operator dashboard: members, leader, lease TTLs, per-node load, store health, order sparklines, leader changes (a terminal UI; operators)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "completions" -d 'Print a shell completion script for dfood (bash, zsh or fish)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "events" -d 'Stream a restaurant\'s events live (staff), for scripts and screens'
complete -c dfood -n "__fish_dfood_using_subcommand help; and not __fish_seen_subcommand_from status config signup login logout whoami passwd service-account admin restaurant staff menu order report cluster bench board top completions events help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective settings and where each comes from'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a setting in the config file: endpoint, ca or server_name'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a setting from the config file'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file\'s path'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "create" -d 'Create a service account; prints its client_id and client_secret (shown once: store it now). Scripts log in with `dfood login --client-id ID` and DFOOD_CLIENT_SECRET'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "delete" -d 'Delete a service account: its secret and every token it holds stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from service-account" -f -a "rotate-secret" -d 'Give a service account a new secret (printed once); the old secret and every token issued with it stop working at once'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "bootstrap" -d 'Create the first operator with the one-time setup token dfoodd wrote to <data-dir>/setup-token, then log in as it'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "rotate-key" -d 'Make a new token signing key current (operators). Tokens signed with older keys stay valid until they expire, unless --revoke-old'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "disable" -d 'Disable an account (operators): it cannot log in, and its sessions and tokens are refused on every node at once'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "enable" -d 'Enable a disabled account again (operators); it logs in anew'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "create" -d 'Create a restaurant; you become its manager. It starts closed'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "list" -d 'List restaurants (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "show" -d 'Show one restaurant'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "open" -d 'Start taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "close" -d 'Stop taking orders'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from restaurant" -f -a "set" -d 'Rename a restaurant, or bound what a line or an order may cost (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "add" -d 'Give a user a role at a restaurant (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "remove" -d 'Remove a user from a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from staff" -f -a "list" -d 'List a restaurant\'s staff (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from menu" -f -a "show" -d 'Show a restaurant\'s menu (no login needed)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from menu" -f -a "import" -d 'Import items from a CSV or JSON file (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from menu" -f -a "set" -d 'Change an item\'s price, station or stock (manager only)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from menu" -f -a "86" -d 'Mark an item sold out ("86 it"; kitchen staff or manager)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from menu" -f -a "un86" -d 'Make an 86\'d item available again'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "place" -d 'Place an order and pay for it'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "status" -d 'Show an order'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "list" -d 'List your orders, or a restaurant\'s (staff)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "cancel" -d 'Cancel your order (before the kitchen accepts it)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "track" -d 'Follow an order live until it is done'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "accept" -d 'Kitchen: accept an order (captures the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "reject" -d 'Kitchen: reject an order (voids the payment)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "station-ready" -d 'Kitchen: a station\'s lines of an order are ready (or not, --undo)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "start" -d 'Kitchen: start preparing an accepted order'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "ready" -d 'Kitchen: the order is ready'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "complete" -d 'Kitchen: the order was handed over'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "refund" -d 'Manager: refund a captured payment'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from order" -f -a "rush" -d 'Kitchen: flag an open order as a rush (boards show it first), or clear the flag with --off. Setting the flag it already has changes nothing'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "sales" -d 'Per day: orders by final state, revenue, refunds, and the average and 90th percentile of acceptance-to-ready and placement-to-completion'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "items" -d 'Units sold and revenue per item, over completed orders'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "status" -d 'Members, roles, leader and fencing token, lease TTLs, versions, store health'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "members" -d 'The cluster\'s members'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "switchover" -d 'Move leadership in a healthy cluster to NODE, or to the best candidate'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "failover" -d 'Force leadership to NODE when the leader is unhealthy'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "pause" -d 'Maintenance mode: no automatic leader change (duties keep running)'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "resume" -d 'Leave maintenance mode'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from cluster" -f -a "drain" -d 'Move NODE\'s clients away (it stops taking connections), and wait until the node refuses new connections and its clients have gone'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "place" -d 'Place orders as many customers at a seeded restaurant, and report throughput, latency percentiles and errors'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "read" -d 'Browse the menu (menu.get, no login) as fast as the load allows'
complete -c dfood -n "__fish_dfood_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "track" -d 'N subscribers follow restaurant:<id> while orders are placed; reports commit-to-receipt latency of the order events'
