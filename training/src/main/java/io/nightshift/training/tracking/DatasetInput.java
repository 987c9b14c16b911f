package io.nightshift.training.tracking;

import java.util.List;

/**
 * A dataset a run consumed.
 *
 * @param context {@code training}, {@code validation} or {@code scoring}
 * @param version the Delta table version read
 */
public record DatasetInput(
    String name, String path, long version, long rows, List<String> columns, String context) {}
