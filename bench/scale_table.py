#!/usr/bin/env python3
"""Prints bench/scale.sh's results as markdown: one table per database, each page's req/s, p50,
p99 and the server's CPU per request at every size side by side with the largest size's rate over the smallest's, then
start-up, memory and seeding; and the ceiling.

usage: scale_table.py RESULTS_DIR "sqlite postgres" "10k 1m"
"""
import os
import sys

results, databases, sizes = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()


def load(name):
    path = os.path.join(results, f"{name}.tsv")
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows[parts[0]] = parts
    return rows


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def fmt(text):
    value = number(text)
    if value is None:
        return text or "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:g}"


PAGES = ["topic_visitor", "topic_member", "topic_members", "category_visitor", "category_member", "home_visitor",
         "home_member", "search", "search_like", "search_common", "staff_queue", "review_queue", "reply"]
FIGURES = ["notify_queue", "notify_drain", "startup", "idle", "idle_anon", "peak", "anon", "seed"]

for database in databases:
    runs = {size: load(f"{database}-{size}") for size in sizes}
    if not any(runs.values()):
        continue
    first, last = sizes[0], sizes[-1]
    print(f"\n### {'SQLite' if database == 'sqlite' else 'PostgreSQL'}\n")
    head = ["page"]
    for size in sizes:
        head += [f"{size} req/s", f"{size} p50 ms", f"{size} p99 ms", f"{size} CPU ms/req"]
    if len(sizes) > 1:
        head.append(f"{last}/{first} req/s")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for key in PAGES:
        label = next((runs[s][key][1] for s in sizes if key in runs[s]), None)
        if label is None:
            continue
        if key == "search":  # the match count differs by size
            label = label.split(" (")[0]
        cells = [label]
        notes = []
        for size in sizes:
            row = runs[size].get(key)
            cells += [fmt(row[2]), fmt(row[3]), fmt(row[4])] if row else ["-", "-", "-"]
            cells.append(row[6] if row and len(row) > 6 and row[6] else "-")
            if row and len(row) > 5 and row[5].strip():
                notes.append(f"{size}: {row[5].strip()}")
        if len(sizes) > 1:
            a = number(runs[first].get(key, [None] * 3)[2] or "")
            b = number(runs[last].get(key, [None] * 3)[2] or "")
            cells.append(f"{b / a:.2f}" if a and b else "-")
        print("| " + " | ".join(cells) + " |" + (f" <!-- {'; '.join(notes)} -->" if notes else ""))
    print()
    for key in FIGURES:
        label = next((runs[s][key][1] for s in sizes if key in runs[s]), None)
        if label is None:
            continue
        values = ", ".join(f"{size}: {fmt(runs[size][key][2])}" for size in sizes if key in runs[size])
        print(f"- {label}: {values}")

ceiling = load("ceiling").get("ceiling")
if ceiling:
    cpu = f", {ceiling[6]} ms of CPU per request" if len(ceiling) > 6 and ceiling[6] else ""
    print(f"\nCeiling (the topic page's bytes from memory, bare axum): {fmt(ceiling[2])} req/s, "
          f"p50 {ceiling[3]} ms, p99 {ceiling[4]} ms{cpu}.")
    for database in databases:
        for size in sizes:
            row = load(f"{database}-{size}").get("topic_visitor")
            if row and number(row[2]) and number(ceiling[2]):
                print(f"- visitor topic page / ceiling, {database} {size}: "
                      f"{100 * number(row[2]) / number(ceiling[2]):.0f}%")
