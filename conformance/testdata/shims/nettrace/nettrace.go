// Package nettrace stands in for Go's internal/nettrace. Its hooks (an
// alternative resolver in the context) are read by package net only from
// the real internal package, so none is offered: tests that use one need
// Go's internals.
package nettrace
