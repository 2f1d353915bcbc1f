"""Operations shared by the REST API and the CLI; they raise typed errors, never HTTP ones."""
