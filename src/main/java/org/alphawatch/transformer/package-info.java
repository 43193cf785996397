/**
 * demo transformer: a real pretrained model (all-MiniLM-L6-v2) in ONNX Runtime, its residual stream
 * exposed and streamed into the monitor.
 *
 * <p>Runs in its own JVM with target/transformer-lib on the class path; the only package that touches
 * ONNX Runtime, DJL or langchain4j (ArchitectureTest).
 *
 * <p>May import: attach, pipeline, server, alert, plot, core. Single-threaded. Parameters and results
 * are never null unless documented.
 */
package org.alphawatch.transformer;
