package ociruntime

import (
	"reflect"
	"testing"
)

func TestCommandLines(t *testing.T) {
	r := Runtime{Path: "/usr/bin/runc", Root: "/run/berth/runtime/runc"}
	base := []string{"/usr/bin/runc", "--root", "/run/berth/runtime/runc"}
	for _, c := range []struct {
		got, want []string
	}{
		{r.Create("c1", CreateOpts{Bundle: "/b", PidFile: "/b/init.pid", LogFile: "/b/log", ConsoleSocket: "/s"}),
			append(append([]string{}, base...), "--log", "/b/log", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket", "/s", "c1")},
		{r.Create("c1", CreateOpts{Bundle: "/b", PidFile: "/p"}), append(append([]string{}, base...), "create", "--bundle", "/b", "--pid-file", "/p", "c1")},
		{r.Start("c1"), append(append([]string{}, base...), "start", "c1")},
		{r.Delete("c1", true), append(append([]string{}, base...), "delete", "--force", "c1")},
		{r.Delete("c1", false), append(append([]string{}, base...), "delete", "c1")},
		{r.Exec("c1", ExecOpts{ProcessFile: "/p.json", PidFile: "/pid"}), append(append([]string{}, base...), "exec", "--process", "/p.json", "--pid-file", "/pid", "c1")},
		{r.Exec("c1", ExecOpts{ProcessFile: "/p.json", PidFile: "/pid", Detach: true, ConsoleSocket: "/s"}),
			append(append([]string{}, base...), "exec", "--process", "/p.json", "--pid-file", "/pid", "--detach", "--console-socket", "/s", "c1")},
		{r.Update("c1"), append(append([]string{}, base...), "update", "--resources", "-", "c1")},
		{r.Features(), []string{"/usr/bin/runc", "features"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
}
