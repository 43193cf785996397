/**
 * Random projections of probe trajectories: energy slope and read-out R^2.
 *
 * <p>May import: core.*. Stateless. Parameters and results are never null unless documented.
 */
package org.alphawatch.core.projection;
