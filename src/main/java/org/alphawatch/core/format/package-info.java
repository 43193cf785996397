/**
 * The little-endian binary reader and writer every on-disk format uses, with CRC32C.
 *
 * <p>No imports outside the JDK. Not thread-safe. Parameters and results are never null unless
 * documented.
 */
package org.alphawatch.core.format;
