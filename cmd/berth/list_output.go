package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
)

// listFlags are the output flags every listing verb shares.
type listFlags struct {
	quiet   bool
	output  string
	noTrunc bool
}

func (l *listFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVarP(&l.quiet, "quiet", "q", false, "print "+what+" IDs only")
	cmd.Flags().StringVarP(&l.output, "output", "o", "table", "table, json or yaml")
	cmd.Flags().BoolVar(&l.noTrunc, "no-trunc", false, "print full IDs")
}

func (l *listFlags) validate() error { return format(l.output).validate("table", "json", "yaml") }

// emit prints a listing: IDs with -q, the response as JSON or YAML with
// -o, else the table table writes.
func (l *listFlags) emit(ids []string, resp proto.Message, table func(tw *tabwriter.Writer)) error {
	switch {
	case l.quiet:
		for _, id := range ids {
			fmt.Println(id)
		}
		return nil
	case l.output != "table":
		return printStructured(os.Stdout, format(l.output), resp)
	}
	tw := newTable()
	table(tw)
	return tw.Flush()
}
