package io.actorimages.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain text table for people: a header row in capitals, columns separated by two spaces, no borders, the last
 * column unpadded. Scripts use {@code --json} instead.
 */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  /** A table with these column headers. */
  Table(String... headers) {
    columns = headers.length;
    rows.add(headers);
  }

  /** Adds a row; {@code null} cells print as {@code -}. */
  Table add(Object... cells) {
    String[] row = new String[columns];
    for (int i = 0; i < columns; i++) {
      Object cell = i < cells.length ? cells[i] : null;
      row[i] = cell == null ? "-" : cell.toString();
    }
    rows.add(row);
    return this;
  }

  /** The number of rows below the header. */
  int size() {
    return rows.size() - 1;
  }

  /** Prints the table on {@code out}. */
  void print(PrintStream out) {
    int[] width = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) width[i] = Math.max(width[i], row[i].length());
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) line.append(" ".repeat(width[i] - row[i].length() + 2));
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
