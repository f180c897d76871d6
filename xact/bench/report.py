"""Ratios, targets and output of ``xact bench``: terminal tables, bench.json, bench.md, PNGs.

Every ratio divides two medians measured in the same interleaved rounds
(same framework, activation and size). An implementation is compared with
the built-in in the same form (eager with eager, ``torch.compile`` with
``torch.compile``, ``tf.function`` with ``tf.function``, XLA with XLA); an
activation without a built-in (spiky) is compared with its spec formula
differentiated by the framework ("composed") in that form.
"""

from __future__ import annotations

import json
import os
from typing import Any

from xact.bench import bandwidth

_SUFFIXES = ("_compiled", "_function", "_xla")

#: The issue's targets: (id, framework, numerator, denominator, op, limit, what).
RATIO_TARGETS = (
    ("torch-eager", "torch", "xact_native", "builtin", "<=", 1.5, "xact native / built-in, eager"),
    ("torch-composed", "torch", "xact_native", "composed", "<=", 1.0,
     "xact native / spec formula under autograd, eager"),
    ("torch-compile", "torch", "xact_native_compiled", "builtin_compiled", "<=", 1.1,
     "xact native / built-in, both torch.compile"),
    ("tf-function", "tf", "xact_native_function", "builtin_function", "<=", 1.1,
     "xact native / built-in, both tf.function"),
    ("tf-xla", "tf", "xact_native_xla", "builtin_xla", "<=", 1.1,
     "xact native / built-in, both jit_compile=True"),
    ("tf-bridge", "tf", "xact_bridge", "numpy_vectorized", "<=", 1.2,
     "xact bridge / hand-written tf.numpy_function, eager"),
    ("tf-bridge-function", "tf", "xact_bridge_function", "numpy_vectorized_function", "<=", 1.2,
     "xact bridge / hand-written tf.numpy_function, tf.function"),
)
#: Measured and reported the same way, but not targets of the issue.
RATIO_INFO = (
    ("tf-eager", "tf", "xact_native", "builtin", "<=", 1.5, "xact native / built-in, eager (info)"),
    ("torch-eager-plain", "torch", "xact_native_plain", "builtin", "<=", 1.5,
     "xact native, plain path (fused kernels off) / built-in, eager (info)"),
    ("torch-bridge", "torch", "xact_bridge", "numpy_vectorized", "<=", 1.2,
     "xact bridge / hand-written NumPy autograd.Function (info)"),
)
SEED_SPEEDUP = 25.0
SMALL_OVERHEAD = 3.0
IMPORT_LIMIT_S = 0.1


def _split(key: str) -> tuple[str, str]:
    for s in _SUFFIXES:
        if key.endswith(s):
            return key[: -len(s)], s
    return key, ""


def reference(key: str, present: set[str]) -> str | None:
    """The built-in (or stand-in) in the same form as ``key``."""
    _, suffix = _split(key)
    for cand in (f"builtin{suffix}", f"composed{suffix}"):
        if cand in present:
            return cand
    return None


def _cells(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], dict[str, dict[str, Any]]]:
    cells: dict[tuple[str, str, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        cells.setdefault((r["framework"], r["activation"], r["size"]), {})[r["impl"]] = r
    return cells


def assemble(*, rows: list[dict[str, Any]], config: dict[str, Any], machine: dict[str, Any],
             versions: dict[str, Any], bandwidth: dict[str, Any], import_time: dict[str, Any],
             wall_s: float) -> dict[str, Any]:
    bps = bandwidth["start"]["bytes_per_s"]
    for cell in _cells(rows).values():
        present = set(cell)
        for key, r in cell.items():
            ref = reference(key, present)
            r["reference"] = ref
            r["ratio"] = r["median_s"] / cell[ref]["median_s"] if ref else None
            bound = _bound_s(r["size"], bps)
            r["bound_s"] = bound
            r["bound_fraction"] = bound / r["median_s"]
    result = {
        "schema": 1,
        "config": config,
        "machine": machine,
        "versions": versions,
        "bandwidth": bandwidth,
        "import_time": import_time,
        "wall_s": wall_s,
        "rows": rows,
    }
    result["targets"] = targets(result)
    return result


def _bound_s(n: int, bytes_per_s: float) -> float:
    return bandwidth.fused_bytes(n) / bytes_per_s


def _target(tid: str, fw: str, act: str | None, what: str, value: float | None, op: str,
            limit: float, note: str = "") -> dict[str, Any]:
    met = None if value is None else (value <= limit if op == "<=" else value >= limit)
    return {"id": tid, "framework": fw, "activation": act, "what": what, "value": value,
            "op": op, "limit": limit, "met": met, "note": note}


def _small_sizes(result: dict[str, Any]) -> list[int]:
    """The issue states the small-tensor target at 1,000 and 4,096 elements: every size up to 16K."""
    sizes = sorted(result["config"]["sizes"])
    return [n for n in sizes if n <= 16_384] or sizes[:1]


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, evaluated at the reference size (and smallest size)."""
    rows = result["rows"]
    cells = _cells(rows)
    ref_n = result["config"]["reference_size"]
    small_sizes = _small_sizes(result)
    out: list[dict[str, Any]] = []
    acts = sorted({r["activation"] for r in rows}, key=lambda a: [r["activation"] for r in rows].index(a))
    fws = sorted({r["framework"] for r in rows}, key=["torch", "tf"].index)
    for fw in fws:
        for act in acts:
            cell = cells.get((fw, act, ref_n), {})
            for group, informational in ((RATIO_TARGETS, False), (RATIO_INFO, True)):
                for tid, tfw, num, den, op, limit, what in group:
                    if tfw != fw or num not in cell:
                        continue
                    den_key = den if den in cell else reference(num, set(cell))
                    if den_key is None or den_key == num:
                        continue
                    note = "info" if informational else ""
                    if den_key != den:
                        note = (note + "; " if note else "") + f"vs {den_key} (no built-in)"
                    out.append(_target(tid, fw, act, what, cell[num]["median_s"] / cell[den_key]["median_s"],
                                       op, limit, note))
            xact_fast = [r["median_s"] for k, r in cell.items() if k.startswith("xact_native")]
            seed = [r for k, r in cell.items() if k.startswith("seed")]
            if xact_fast and seed:
                best_seed = min(seed, key=lambda r: r["median_s"])
                out.append(_target(
                    "seed-speedup", fw, act, "seed recipe (fastest form) / xact native (fastest form)",
                    best_seed["median_s"] / min(xact_fast), ">=", SEED_SPEEDUP,
                    "seed extrapolated linearly" if best_seed["extrapolated"] else "",
                ))
            for small_n in small_sizes:
                small = cells.get((fw, act, small_n), {})
                if "xact_native" not in small:
                    continue
                den_key = "builtin" if "builtin" in small else "composed" if "composed" in small else None
                if den_key:
                    a, b = small["xact_native"]["median_s"], small[den_key]["median_s"]
                    out.append(_target(
                        "small-overhead", fw, act, f"xact eager / {den_key} eager at n={small_n:,}",
                        a / b, "<=", SMALL_OVERHEAD, f"{a * 1e6:.0f} us vs {b * 1e6:.0f} us per call",
                    ))
            for key in ("xact_native", "xact_native_compiled", "xact_native_function", "xact_native_xla"):
                mem = cell.get(key, {}).get("memory")
                if not mem or "error" in mem or mem.get("saved_extra_bytes") is None:
                    continue
                if mem.get("saved") is not None:  # torch: exact, from saved-tensor hooks
                    kinds = _saved_kinds(mem["saved"])
                    what = f"{key}: bytes saved for backward (input = {4 * ref_n / 2**20:.1f} MiB)"
                    value, limit = float(mem["saved_bytes"]), 4.0 * ref_n + 1024  # + 0-d scalars
                    note = kinds if mem["saved"] == ["input"] else (
                        kinds + ": a 1-byte mask instead of x" if value < 4 * ref_n else kinds)
                else:  # tf: what dropping the tape frees, beyond the output
                    what = f"{key}: bytes kept by the tape beyond input and output"
                    value, limit = float(mem["saved_extra_bytes"]), 0.01 * 4 * ref_n
                    note = "allocator: freed when tape and output are dropped"
                if key.endswith("_xla"):
                    # An XLA forward returns what its backward needs as new buffers, the
                    # saved input included, so the probe cannot tell x from an intermediate.
                    same = cell.get("builtin_xla", cell.get("composed_xla", {})).get("memory") or {}
                    other = same.get("saved_extra_bytes")
                    note = "not attributable under XLA (the saved input comes back as a copy)"
                    if other is not None:
                        note += f"; built-in in the same probe: {other / (4 * ref_n):.2f} × x"
                    t = _target("saved-input-only", fw, act, what, value, "<=", limit, note)
                    t["met"] = None
                    out.append(t)
                    continue
                out.append(_target("saved-input-only", fw, act, what, value, "<=", limit, note))
    imp = result["import_time"]
    out.append(_target("import-time", "-", None, "import xact, seconds (median, fresh interpreter)",
                       imp["median_s"], "<=", IMPORT_LIMIT_S,
                       "imports a framework" if imp["imports_framework"] else "imports no framework"))
    if imp["imports_framework"]:
        out[-1]["met"] = False
    return out


# ---------------------------------------------------------------- output


def emit(result: dict[str, Any], out_dir: str, console: Any) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    with open(os.path.join(out_dir, "bench.md"), "w") as f:
        f.write(markdown(result))
    print_tables(result, console)
    try:
        plots(result, out_dir)
    except ImportError:
        console.print("[yellow]matplotlib not installed: no plots[/yellow]")


def _fmt_t(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f}µs"
    if s < 1:
        return f"{s * 1e3:.1f}ms"
    return f"{s:.2f}s"


def _ordered_impls(rows: list[dict[str, Any]], fw: str) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for r in rows:
        if r["framework"] == fw and r["impl"] not in seen:
            seen[r["impl"]] = r["label"].removesuffix(" (extrapolated)")
    return list(seen.items())


def _matrix(result: dict[str, Any], fw: str, n: int) -> tuple[list[str], list[list[str]]]:
    """Rows: implementations; columns: activations; cells 'time (ratio)' at size n."""
    rows = [r for r in result["rows"] if r["framework"] == fw and r["size"] == n]
    acts = list(dict.fromkeys(r["activation"] for r in rows))
    cells = _cells(rows)
    body = []
    for key, label in _ordered_impls(result["rows"], fw):
        line = [label]
        for act in acts:
            r = cells.get((fw, act, n), {}).get(key)
            if r is None:
                line.append("-")
                continue
            ratio = f" ×{r['ratio']:.2f}" if r["ratio"] is not None else ""
            star = "*" if r["extrapolated"] else ""
            line.append(f"{_fmt_t(r['median_s'])}{star}{ratio}")
        body.append(line)
    if rows:
        body.append(["bandwidth bound (fused, 5 arrays)"] + [_fmt_t(rows[0]["bound_s"])] * len(acts))
    return acts, body


def _saved_kinds(kinds: list[str]) -> str:
    counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
    return " + ".join(k if c == 1 else f"{c} {k}s" for k, c in counts.items()) or "nothing"


def _memory_rows(result: dict[str, Any], fw: str) -> list[list[str]]:
    n = result["config"]["memory_size"]
    out = []
    for r in result["rows"]:
        mem = r.get("memory")
        if r["framework"] != fw or r["size"] != n or not mem:
            continue
        if "error" in mem:
            out.append([r["activation"], r["impl"], "error", mem["error"][:40], ""])
            continue
        saved = _saved_kinds(mem["saved"]) if mem.get("saved") is not None else "n/a"
        if mem.get("saved_bytes") is not None:
            saved = f"{mem['saved_bytes'] / 2**20:.1f} MiB ({saved})"
        extra = mem.get("saved_extra_bytes")
        out.append([
            r["activation"], r["impl"], saved,
            "n/a" if extra is None else f"{extra / 2**20:.1f} MiB",
            f"{mem['peak_bytes'] / 2**20:.1f} MiB ({mem['peak_bytes'] / (4 * n):.1f} × x)",
        ])
    return out


def _target_rows(result: dict[str, Any]) -> list[list[str]]:
    out = []
    for t in result["targets"]:
        v = t["value"]
        if t["id"] == "import-time":
            val = f"{v * 1e3:.1f} ms"
            lim = f"{t['op']} {t['limit'] * 1e3:.0f} ms"
        elif t["id"] == "saved-input-only":
            val = f"{v / 2**20:.2f} MiB"
            lim = f"{t['op']} {t['limit'] / 2**20:.2f} MiB"
        else:
            val = "-" if v is None else f"{v:.2f}"
            lim = f"{t['op']} {t['limit']:g}"
        mark = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        if "info" in t["note"].split("; "):
            mark = mark.lower() if mark == "MISSED" else mark
            mark += " (info)"
        out.append([t["framework"], t["activation"] or "-", t["what"], val, lim, mark, t["note"]])
    return out


def print_tables(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    ref_n = result["config"]["reference_size"]
    for fw in dict.fromkeys(r["framework"] for r in result["rows"]):
        for n in sorted({ref_n, *_small_sizes(result)}):
            acts, body = _matrix(result, fw, n)
            table = Table(title=f"{fw}: forward+backward, float32, n = {n:,} — median (× same-form built-in)",
                          show_lines=False)
            table.add_column("implementation", overflow="fold", max_width=34)
            for a in acts:
                table.add_column(a, justify="right")
            for line in body:
                table.add_row(*line)
            console.print(table)
        mem = _memory_rows(result, fw)
        if mem:
            table = Table(title=f"{fw}: memory at n = {result['config']['memory_size']:,}")
            for c in ("activation", "impl", "saved for backward", "kept beyond input", "peak above inputs"):
                table.add_column(c)
            for line in mem:
                table.add_row(*line)
            console.print(table)
    small = ", ".join(f"{n:,}" for n in _small_sizes(result))
    table = Table(title=f"targets at n = {ref_n:,} (small-tensor overhead at n = {small})")
    for c in ("fw", "activation", "target", "value", "limit", "", "note"):
        table.add_column(c, overflow="fold")
    for line in _target_rows(result):
        style = "red" if line[5] == "MISSED" else None
        table.add_row(*line, style=style)
    console.print(table)
    console.print("* extrapolated linearly from the largest size measured")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def machine_line(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = result["versions"]
    parts = [f"{m['cpu']}, {m['logical_cpus']} logical CPUs"]
    if m.get("memory_bytes"):
        parts.append(f"{m['memory_bytes'] / 2**30:.0f} GiB RAM")
    parts.append(f"Python {m['python']}")
    if "torch" in v:
        parts.append(f"torch {v['torch']['torch']} ({v['torch']['threads']} threads)")
    if "tf" in v:
        parts.append(f"tensorflow {v['tf']['tensorflow']}")
    bw = result["bandwidth"]["start"]
    parts.append(f"copy bandwidth {bw['bytes_per_s'] / 1e9:.1f} GB/s")
    load = m.get("load_average")
    if load:
        parts.append(f"load average {load[0]:.1f} at start")
    return "; ".join(parts)


def markdown(result: dict[str, Any]) -> str:
    ref_n = result["config"]["reference_size"]
    small = ", ".join(f"{n:,}" for n in _small_sizes(result))
    out = [f"Machine: {machine_line(result)}. Wall time {result['wall_s']:.0f} s.\n"]
    for fw in dict.fromkeys(r["framework"] for r in result["rows"]):
        for n in sorted({ref_n, *_small_sizes(result)}):
            acts, body = _matrix(result, fw, n)
            out.append(f"\n**{fw}, n = {n:,}**: median time of forward+backward "
                       "(× the built-in in the same form; * = extrapolated)\n\n")
            out.append(_md_table(["implementation", *acts], body))
        mem = _memory_rows(result, fw)
        if mem:
            out.append(f"\n**{fw}, memory at n = {result['config']['memory_size']:,}**\n\n")
            out.append(_md_table(["activation", "impl", "saved for backward", "kept beyond input",
                                  "peak above inputs"], mem))
    out.append(f"\n**Targets** (ratios at n = {ref_n:,}; overhead at n = {small})\n\n")
    out.append(_md_table(["fw", "activation", "target", "value", "limit", "", "note"], _target_rows(result)))
    return "".join(out)


def plots(result: dict[str, Any], out_dir: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    rows = result["rows"]
    bps = result["bandwidth"]["start"]["bytes_per_s"]
    for fw in dict.fromkeys(r["framework"] for r in rows):
        acts = list(dict.fromkeys(r["activation"] for r in rows if r["framework"] == fw))
        impls = _ordered_impls(rows, fw)
        cols = 2 if len(acts) > 1 else 1
        nrows = (len(acts) + cols - 1) // cols
        fig, axes = plt.subplots(nrows, cols, figsize=(7 * cols, 4 * nrows), squeeze=False)
        cmap = plt.get_cmap("tab20")
        for ax, act in zip(axes.flat, acts):
            for i, (key, label) in enumerate(impls):
                pts = sorted((r["size"], r["ns_per_element"], r["extrapolated"]) for r in rows
                             if r["framework"] == fw and r["activation"] == act and r["impl"] == key)
                if not pts:
                    continue
                meas = [(n, t) for n, t, e in pts if not e]
                style = "--" if key.startswith(("seed", "numpy")) else "-"
                if meas:
                    ax.plot(*zip(*meas), style, marker="o", ms=3, color=cmap(i), label=label)
                ext = [(n, t) for n, t, e in pts if e]
                if ext:
                    ax.plot([meas[-1][0], *(n for n, _ in ext)] if meas else [n for n, _ in ext],
                            [meas[-1][1], *(t for _, t in ext)] if meas else [t for _, t in ext],
                            ":", color=cmap(i))
            sizes = sorted({r["size"] for r in rows if r["framework"] == fw})
            ax.plot(sizes, [bandwidth.fused_bytes(n) / bps / n * 1e9 for n in sizes], "k:",
                    label="bandwidth bound")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{fw}: {act}")
            ax.set_xlabel("elements")
            ax.set_ylabel("ns per element (forward+backward)")
            ax.grid(True, which="both", alpha=0.3)
        for ax in list(axes.flat)[len(acts):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8)
        fig.tight_layout(rect=(0, 0.08 + 0.02 * (len(impls) // 3), 1, 1))
        path = os.path.join(out_dir, f"bench-{fw}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
