// Package archtest holds tests that keep perfbase's package boundaries
// honest: which packages may link what. It has no code of its own.
package archtest
