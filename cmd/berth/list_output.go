package main

import (
	"fmt"
	"os"

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

// emitData prints a listing's IDs (-q) or its response as JSON or YAML
// (-o); the table is the caller's (printRows).
func (l *listFlags) emitData(ids []string, resp proto.Message) error {
	if l.quiet {
		for _, id := range ids {
			fmt.Println(id)
		}
		return nil
	}
	return printStructured(os.Stdout, format(l.output), resp)
}
