# bash completion for posternctl(8).
#
# The commands are read from `posternctl --help`, the table posternctl
# itself prints (admin/posternctl/cli.c), so a new command completes
# without an edit here.  Each command line there is two spaces, its words
# (lower case), then its operands and options:
#   "  user add USER [-p PASSWORD] [-s yescrypt|sha512|bcrypt] ..."
# Completes: the global options, the first word, the second word of a group
# (user add|del|...), a command's own options after "-", file names after
# -c and for operands named FILE or DIR.

# _posternctl_table CMD: "words|options|files" per command into
# _posternctl_cmds, once per binary path.
_posternctl_table()
{
	[[ ${_posternctl_for-} == "$1" ]] && return 0
	_posternctl_for=$1
	_posternctl_cmds=()
	local line
	while IFS= read -r line; do
		_posternctl_cmds+=("$line")
	done < <("$1" --help 2>/dev/null | awk '
		/^commands:/ { on = 1; next }
		on && /^  [a-z]/ {
			words = ""; opts = ""; files = ""
			n = split($0, t, /[ \t]+/)
			i = 2
			while (i <= n && t[i] ~ /^[a-z][a-z0-9-]*$/) { words = words (words ? " " : "") t[i]; i++ }
			for (; i <= n; i++) {
				w = t[i]; gsub(/[][|]/, " ", w)
				m = split(w, o, / /)
				for (j = 1; j <= m; j++) {
					if (o[j] ~ /^--?[A-Za-z][A-Za-z-]*$/ && index(" " opts " ", " " o[j] " ") == 0)
						opts = opts (opts ? " " : "") o[j]
					if (o[j] == "FILE" || o[j] == "DIR") files = "f"
				}
			}
			print words "|" opts "|" files
		}')
}

_posternctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local i w typed="" ntyped=0 entry words opts files cands=""
	COMPREPLY=()
	if [[ $prev == -c ]]; then
		COMPREPLY=($(compgen -f -W none -- "$cur"))
		return 0
	fi
	# the words of the command typed so far (options and -c ARG left out)
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c) ((i++)) ;;
		-*) ;;
		*) typed+="${typed:+ }$w"; ((ntyped++)) ;;
		esac
	done
	_posternctl_table "${COMP_WORDS[0]}"
	if ((ntyped == 0)) && [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c -h --help -V --version" -- "$cur"))
		return 0
	fi
	for entry in "${_posternctl_cmds[@]}"; do
		words=${entry%%|*}; entry=${entry#*|}
		opts=${entry%%|*}; files=${entry#*|}
		if [[ $typed == "$words" || $typed == "$words "* ]]; then
			# a whole command (and maybe operands): its options, or file
			# names for FILE/DIR
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
			elif [[ -n $files ]]; then
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return 0
		fi
		if ((ntyped == 0)); then
			cands+=" ${words%% *}"
		elif [[ $words == "$typed "* ]]; then
			w=${words#"$typed "}
			cands+=" ${w%% *}"
		fi
	done
	COMPREPLY=($(compgen -W "$cands" -- "$cur" | LC_ALL=C sort -u))
	return 0
}

complete -F _posternctl posternctl
