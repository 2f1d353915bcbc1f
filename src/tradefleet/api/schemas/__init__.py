"""Request and response models: one family per entity (Base / Create / Update / Public)."""
