# Sourced by plans.sh and plans-kube.sh: apply_plans WORK PARALLEL creates
# the Plans of make_plans.py on $KUBECONFIG's server, either with kubectl
# (CLIENT=kubectl, the default: PARALLEL processes, one file each, APPLY
# flags) or with the apiserver-create example (CLIENT=rust: one process,
# PARALLEL concurrent creates; CREATE=path to it, else a release build).
apply_plans() {
  local work=$1 parallel=$2
  case ${CLIENT:-kubectl} in
    kubectl)
      local appliers=() j a
      for j in $(seq 0 $((parallel - 1))); do
        # shellcheck disable=SC2086
        k apply ${APPLY:-} -f "$work/plans-$j.yaml" >"$work/apply-$j.out" &
        appliers+=($!)
      done
      for a in "${appliers[@]}"; do wait "$a"; done
      ;;
    rust)
      "$create" "$work/plans.jsonl" "$parallel" >"$work/apply-rust.out"
      ;;
    *) echo "error: CLIENT must be kubectl or rust" >&2; return 1 ;;
  esac
}

# The apiserver-create binary, built when CLIENT=rust and CREATE is unset.
create_binary() {
  local repo=$1
  if [ "${CLIENT:-kubectl}" = rust ] && [ -z "${CREATE:-}" ]; then
    cargo build -q --release -p ferry-apiserver --example apiserver-create --manifest-path "$repo/Cargo.toml"
    CREATE="${CARGO_TARGET_DIR:-$repo/target}/release/examples/apiserver-create"
  fi
  create=${CREATE:-}
}
