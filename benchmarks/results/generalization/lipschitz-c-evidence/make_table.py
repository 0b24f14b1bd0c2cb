# Writes README.md of this folder from its JSON and the suite's defaults rows: python benchmarks/results/generalization/lipschitz-c-evidence/make_table.py benchmarks/results/generalization
import json, glob, os, sys
d = 'benchmarks/results/generalization/lipschitz-c-evidence'
base = sys.argv[1]
names = sorted(os.path.basename(f) for f in glob.glob(d + '/c0.2/*.json'))
lines = ["# The Lipschitz cap's constant, measured on the function: lipschitz_c = 0.5, 0.2, 0.1", "",
"Diagnostic for b1af6f2 (the Theorem 2 Lipschitz estimate measured on the function, `du/deps = U v` at the",
"outputs, instead of on the weights). Each folder holds the suite's `defaults` rows made at b1af6f2 with one",
"edit: the default of `Options.lipschitz_c` in `continuation/options.py` set to 0.2 (`c0.2/`) or 0.1 (`c0.1/`),",
"in a detached worktree, by `python -m benchmarks generalization --methods defaults --force --out ...` (one",
"torch thread; the records say `dirty: true` for that edit). The runs were stopped before `ac2d-time` (nine rows",
"each). The c = 0.5 column is the suite's committed `defaults` rows (`../*_defaults.json`, made at 80af40e; on",
"these nine problems the same figures as at b1af6f2, commit 2a6f107). The",
"default stays 0.5: see docs/generalization.md, section \"The Lipschitz estimate measured on the function\".", "",
"| problem | c = 0.5 | c = 0.2 | c = 0.1 |", "|---|---|---|---|"]
def cell(f):
    j = json.load(open(f)); t = j['trace']
    return f"{j['l2re']:.2e} {j['status']} {t['accepted']}/{t['rejected']}, {t['corrector_iterations']} its"
for n in names:
    lines.append(f"| {n[:-14]} | {cell(os.path.join(base, n))} | {cell(os.path.join(d, 'c0.2', n))} | "
                 f"{cell(os.path.join(d, 'c0.1', n))} |")
open(d + '/README.md', 'w').write("\n".join(lines) + "\n")
print("\n".join(lines))
