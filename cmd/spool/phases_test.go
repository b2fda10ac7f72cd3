package main

import (
	"strings"
	"testing"
	"time"
)

// at returns the instant ms milliseconds after a fixed origin.
func at(ms float64) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ms * float64(time.Millisecond)))
}

func TestPhasesFreshTLS(t *testing.T) {
	tl := Timeline{
		Start: at(0), DNSStart: at(1), DNSDone: at(11), ConnectStart: at(11), ConnectDone: at(31),
		TLSStart: at(31), TLSDone: at(71), GotConn: at(71), WroteRequest: at(72), FirstByte: at(172), BodyDone: at(200),
	}
	phases, total := Phases(tl)
	want := []Phase{
		{Name: "DNS lookup", Start: ms(1), Dur: ms(10)},
		{Name: "TCP connect", Start: ms(11), Dur: ms(20)},
		{Name: "TLS handshake", Start: ms(31), Dur: ms(40)},
		{Name: "server processing", Start: ms(72), Dur: ms(100)},
		{Name: "content transfer", Start: ms(172), Dur: ms(28)},
	}
	if total != ms(200) || len(phases) != len(want) {
		t.Fatalf("total %v, phases %+v", total, phases)
	}
	for i := range want {
		if phases[i] != want[i] {
			t.Errorf("phase %d = %+v, want %+v", i, phases[i], want[i])
		}
	}
}

func TestPhasesReusedConn(t *testing.T) {
	tl := Timeline{Start: at(0), GotConn: at(0.1), WroteRequest: at(0.2), FirstByte: at(5.2), BodyDone: at(6), Reused: true}
	phases, total := Phases(tl)
	for _, p := range phases[:3] {
		if !p.Skipped || p.Dur != 0 {
			t.Errorf("%s should be skipped on a reused conn: %+v", p.Name, p)
		}
	}
	if phases[3].Dur != ms(5) || phases[4].Dur != ms(0.8) || total != ms(6) {
		t.Errorf("phases %+v total %v", phases, total)
	}
}

func TestPhasesIncomplete(t *testing.T) {
	// Failed before the body ended: no total, no transfer; clock skew clamps to 0.
	phases, total := Phases(Timeline{Start: at(5), ConnectStart: at(4), ConnectDone: at(3), WroteRequest: at(6), FirstByte: at(9)})
	if total != 0 || !phases[4].Skipped || phases[1].Dur != 0 || phases[1].Start != 0 {
		t.Errorf("phases %+v total %v", phases, total)
	}
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func TestWritePhases(t *testing.T) {
	phases, total := Phases(Timeline{Start: at(0), ConnectStart: at(0), ConnectDone: at(50), WroteRequest: at(50), FirstByte: at(99.9), BodyDone: at(100)})
	var b strings.Builder
	writePhases(&b, phases, total, false)
	lines := strings.Split(b.String(), "\n")
	wantBars := map[string]string{
		"TCP connect":       "|" + strings.Repeat("█", 20) + strings.Repeat(" ", 20) + "|",
		"server processing": "|" + strings.Repeat(" ", 20) + strings.Repeat("█", 19) + " |",
		"content transfer":  "|" + strings.Repeat(" ", 39) + "█|", // tiny but visible
		"TLS handshake":     "|" + strings.Repeat(" ", 40) + "|",
	}
	for name, bar := range wantBars {
		found := false
		for _, l := range lines {
			if strings.Contains(l, name) {
				found = true
				if !strings.HasSuffix(l, bar) {
					t.Errorf("%s: %q, want bar %q", name, l, bar)
				}
			}
		}
		if !found {
			t.Errorf("no %s line in\n%s", name, b.String())
		}
	}
	for _, want := range []string{"  TCP connect           50.0ms  |", "  TLS handshake              -  |", "  total                  100ms\n", "connection reused: no\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
}
