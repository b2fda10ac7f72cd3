package conformance

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
)

// unitRow is one unit's line of the table.
type unitRow struct {
	Unit, Test string
	St         map[string]string // tag → status
}

// mergeUnits builds the table: the units of each test are the union of
// what either transport reported; a unit one transport never reported
// takes that run's own status (timeout, crash) or NOBUILD.
func mergeUnits(tests []string, res map[string]map[string]testRun) []unitRow {
	var rows []unitRow
	for _, name := range tests {
		units := map[string]bool{}
		for _, tr := range transports {
			if r, ok := res[tr.Tag][name]; ok {
				for u := range r.units {
					units[u] = true
				}
			}
		}
		if len(units) > 1 {
			delete(units, name) // a run that died reported only the function
		}
		for u := range units {
			row := unitRow{Unit: u, Test: name, St: map[string]string{}}
			for _, tr := range transports {
				r, ok := res[tr.Tag][name]
				switch {
				case !ok:
					row.St[tr.Tag] = stNoBuild
				case r.units[u] != "":
					row.St[tr.Tag] = r.units[u]
				case r.top == stPass || r.top == stSkip:
					row.St[tr.Tag] = stFail // the unit ran on the other transport only
				default:
					row.St[tr.Tag] = r.top
				}
			}
			rows = append(rows, row)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Unit < rows[j].Unit })
	return rows
}

// list is a file of "name<space or tab>reason" lines, # comments. A name
// is a unit (TestX/h2) or a whole test function (TestX: all its units).
type list map[string]string

func readList(path string) (list, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return list{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l := list{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		if n, r, ok := strings.Cut(name, "\t"); ok {
			name, reason = n, r+" "+reason
		}
		l[name] = strings.TrimSpace(reason)
	}
	return l, sc.Err()
}

// match returns the entry for unit (or for its test function).
func (l list) match(unit, test string) (string, bool) {
	if r, ok := l[unit]; ok {
		return r, true
	}
	r, ok := l[test]
	return r, ok
}

// goVersionTag records, in known_failures.txt, the toolchain whose tests
// made the baseline: another Go release has other tests.
const goVersionTag = "# go version: "

// baselineGoVersion returns the Go version recorded in path.
func baselineGoVersion(path string) string {
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, goVersionTag); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// summary counts the table.
type summary struct {
	Units, NetPass, SpoolPass, Differences, Known, New int
	NewUnits, Fixed                                    []string
}

const netTag, spoolTag = "conf_nethttp", "conf_spool"

func summarize(rows []unitRow, diffs, known list) summary {
	var s summary
	for _, r := range rows {
		s.Units++
		if !passed(r.St[netTag]) {
			continue
		}
		s.NetPass++
		_, isKnown := known.match(r.Unit, r.Test)
		if passed(r.St[spoolTag]) {
			s.SpoolPass++
			if _, unitListed := known[r.Unit]; unitListed {
				s.Fixed = append(s.Fixed, r.Unit)
			}
			continue
		}
		if _, ok := diffs.match(r.Unit, r.Test); ok {
			s.Differences++
		} else if isKnown {
			s.Known++
		} else {
			s.New++
			s.NewUnits = append(s.NewUnits, r.Unit)
		}
	}
	return s
}

// table renders the rows.
func table(rows []unitRow, diffs, known list) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-72s %-8s %-8s %s\n", "unit", "net/http", "spool", "")
	for _, r := range rows {
		note := ""
		if passed(r.St[netTag]) && !passed(r.St[spoolTag]) {
			if d, ok := diffs.match(r.Unit, r.Test); ok {
				note = "difference: " + d
			} else if _, ok := known.match(r.Unit, r.Test); ok {
				note = "known failure"
			} else {
				note = "NEW FAILURE"
			}
		}
		fmt.Fprintf(&b, "%-72s %-8s %-8s %s\n", r.Unit, r.St[netTag], r.St[spoolTag], note)
	}
	return b.String()
}

// writeKnown writes the baseline: every unit that passes on net/http and
// fails on spool and is not an accepted difference. An entry of the old
// baseline naming a whole test function (a flaky test, listed by hand) is
// kept while any unit of that test still fails.
func writeKnown(path string, rows []unitRow, diffs list) error {
	old, err := readList(path)
	if err != nil {
		return err
	}
	failing := map[string]bool{}
	for _, r := range rows {
		if passed(r.St[netTag]) && !passed(r.St[spoolTag]) {
			failing[r.Test] = true
		}
	}
	whole := map[string]string{}
	for name, why := range old {
		if !strings.Contains(name, "/") && failing[name] && strings.Contains(strings.ToLower(why), "flaky") {
			whole[name] = why
		}
	}
	var b strings.Builder
	b.WriteString("# Units of net/http's client tests that pass on net/http and fail on spool,\n")
	b.WriteString("# not yet fixed (issue 11). Generated by: SPOOL_CONFORMANCE=1 go test ./conformance -update\n")
	b.WriteString("# A unit listed here may fail; one not listed must pass (or be in differences.txt).\n")
	b.WriteString("# A whole-test entry whose reason says \"flaky\" is kept by -update while any unit of it fails.\n")
	fmt.Fprintf(&b, "%s%s\n", goVersionTag, runtime.Version())
	names := make([]string, 0, len(whole))
	for name := range whole {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%s %s\n", name, whole[name])
	}
	for _, r := range rows {
		if passed(r.St[netTag]) && !passed(r.St[spoolTag]) {
			_, isDiff := diffs.match(r.Unit, r.Test)
			if !isDiff && whole[r.Test] == "" {
				fmt.Fprintf(&b, "%s %s\n", r.Unit, r.St[spoolTag])
			}
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
