/**
 * The graph IR: an immutable, validated dataflow {@link dev.panamadnn.graph.Graph} of
 * {@link dev.panamadnn.graph.Node}s over named {@link dev.panamadnn.graph.Value}s whose
 * {@link dev.panamadnn.graph.Shape}s may be symbolic ({@link dev.panamadnn.graph.Dim}, e.g. a
 * batch {@code N}). Built with {@link dev.panamadnn.graph.GraphBuilder}, traced from a
 * {@link dev.panamadnn.Module}, or imported from ONNX; compiled by
 * {@link dev.panamadnn.compile.CompiledModel}. Every op's shape rule lives in
 * {@link dev.panamadnn.graph.Ops}; a malformed graph is a {@link dev.panamadnn.graph.GraphException}
 * naming the node. Graphs are immutable and safe to share between threads; they reference their
 * initializer tensors without owning them.
 */
package dev.panamadnn.graph;
