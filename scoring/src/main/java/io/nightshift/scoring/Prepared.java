package io.nightshift.scoring;

/**
 * A night's output with every input checked and its rows planned, not yet written. A command that writes the
 * outputs of several use cases prepares all of them first, so that bad input of any one stops it before the first
 * write; {@link #write} then writes this output as its {@code score}/{@code plan} method would have.
 *
 * @param <R> what the write reports
 */
@FunctionalInterface
public interface Prepared<R> {
  R write();
}
