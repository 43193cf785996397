/**
 * Windows over accumulators: sliding (panes), cumulative and decay, with their views and state format.
 *
 * <p>May import: core.stat, core.format. One writer; views are snapshots. Parameters and results are
 * never null unless documented.
 */
package org.alphawatch.core.window;
