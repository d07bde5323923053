package main

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// column is one column of a listing: its header and the row field (what
// a --format template names) it shows.
type column struct{ header, field string }

// templateField finds the {{.Field}}s of a --format template.
var templateField = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// printRows prints rows with a Go template (docker's --format; a "table "
// prefix adds the header row and aligns columns), or as the table of the
// default columns when tmpl is empty.
func printRows[T any](rows []T, columns []column, tmpl string) error {
	tw := newTable()
	if tmpl == "" {
		var fields []string
		for _, col := range columns {
			fields = append(fields, "{{."+col.field+"}}")
		}
		tmpl = "table " + strings.Join(fields, "\t")
	}
	body, isTable := strings.CutPrefix(tmpl, "table ")
	body = strings.ReplaceAll(body, `\t`, "\t")
	t, err := template.New("format").Option("missingkey=error").Parse(body + "\n")
	if err != nil {
		return usage(fmt.Errorf("--format: %v", err))
	}
	if isTable {
		header := templateField.ReplaceAllStringFunc(body, func(f string) string {
			name := templateField.FindStringSubmatch(f)[1]
			for _, col := range columns {
				if col.field == name {
					return col.header
				}
			}
			return strings.ToUpper(name)
		})
		fmt.Fprintln(tw, header)
	}
	for _, r := range rows {
		if err := t.Execute(tw, r); err != nil {
			return usage(fmt.Errorf("--format: %v", err))
		}
	}
	return tw.Flush()
}

// listFilter is one -f KEY=VALUE of a listing.
type listFilter struct{ key, value string }

// parseFilters reads -f KEY=VALUE flags whose keys are in keys (a label
// filter may be KEY alone); check, if set, vets each value.
func parseFilters(specs []string, keys []string, check func(key, value string) error) ([]listFilter, error) {
	var out []listFilter
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		if !containsString(keys, k) {
			return nil, fmt.Errorf("-f %q: filters are %s", s, strings.Join(keys, ", "))
		}
		if !ok && k != "label" {
			return nil, fmt.Errorf("-f %q: want KEY=VALUE", s)
		}
		if check != nil {
			if err := check(k, v); err != nil {
				return nil, fmt.Errorf("-f %q: %w", s, err)
			}
		}
		out = append(out, listFilter{k, v})
	}
	return out, nil
}

// matchFilters reports whether a row passes every filter, as docker has
// it: filters of one key are alternatives, of different keys all must
// hold. one says whether the row matches one key and value.
func matchFilters(filters []listFilter, one func(key, value string) bool) bool {
	byKey := map[string][]string{}
	for _, f := range filters {
		byKey[f.key] = append(byKey[f.key], f.value)
	}
	for key, values := range byKey {
		ok := false
		for _, v := range values {
			ok = ok || one(key, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// labelMatches is the label filter: KEY or KEY=VALUE.
func labelMatches(labels map[string]string, filter string) bool {
	k, val, hasVal := strings.Cut(filter, "=")
	got, present := labels[k]
	return present && (!hasVal || got == val)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
