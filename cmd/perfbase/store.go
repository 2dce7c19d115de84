package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/perfbase/perfbase/internal/store"
)

// StoreCmd inspects and repairs the embedded store.
type StoreCmd struct {
	List StoreListCmd `cmd:"" help:"List the store's blocks: time span, samples, series."`
	Drop StoreDropCmd `cmd:"" help:"Delete blocks, by id or those reaching past a time (e.g. a mistyped import far in the future)."`
}

// StoreListCmd lists blocks.
type StoreListCmd struct {
	DataDir string `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"existingdir"`
}

// Run lists the blocks.
func (c *StoreListCmd) Run(g *Globals) (err error) {
	db, err := store.Open(c.DataDir, store.DefaultOptions())
	if err != nil {
		return badInput(fmt.Errorf("--data-dir: %w", err))
	}
	defer closeInto(&err, db, "--data-dir "+c.DataDir)
	blocks, err := db.Blocks()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOCK\tFROM (UTC)\tTO (UTC)\tSAMPLES\tSERIES")
	now := time.Now()
	for _, b := range blocks {
		note := ""
		if b.MaxTime.After(now.Add(24 * time.Hour)) {
			note = "\t(in the future)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d%s\n", b.ID, b.MinTime.Format(time.DateTime), b.MaxTime.Format(time.DateTime), b.Samples, b.Series, note)
	}
	return tw.Flush()
}

// StoreDropCmd deletes blocks.
type StoreDropCmd struct {
	DataDir string   `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"existingdir"`
	Block   []string `help:"Id of a block to delete (repeatable; see 'perfbase store list')." placeholder:"ID"`
	After   string   `help:"Delete every block that reaches past this time (RFC 3339 or YYYY-MM-DD)." placeholder:"TIME"`
	Yes     bool     `help:"Really delete; without it, only say what would be deleted."`
}

// Run deletes the blocks asked for.
func (c *StoreDropCmd) Run(g *Globals) (err error) {
	if len(c.Block) == 0 && c.After == "" {
		return badInput(errors.New("name blocks with --block ID or --after TIME"))
	}
	var after time.Time
	if c.After != "" {
		if after, err = parseDay(c.After); err != nil {
			return badInput(fmt.Errorf("--after: %w", err))
		}
	}
	db, err := store.Open(c.DataDir, store.DefaultOptions())
	if err != nil {
		return badInput(fmt.Errorf("--data-dir: %w", err))
	}
	defer closeInto(&err, db, "--data-dir "+c.DataDir)
	blocks, err := db.Blocks()
	if err != nil {
		return err
	}
	ids := append([]string(nil), c.Block...)
	if !after.IsZero() {
		for _, b := range blocks {
			if b.MaxTime.After(after) {
				ids = append(ids, b.ID)
			}
		}
	}
	if len(ids) == 0 {
		fmt.Fprintln(g.Stdout, "no block to delete")
		return nil
	}
	if !c.Yes {
		fmt.Fprintf(g.Stdout, "would delete %d blocks: %v (again with --yes to delete them)\n", len(ids), ids)
		return nil
	}
	if err := db.DropBlocks(ids); err != nil {
		return badInput(err)
	}
	fmt.Fprintf(g.Stdout, "deleted %d blocks: %v\n", len(ids), ids)
	return nil
}
