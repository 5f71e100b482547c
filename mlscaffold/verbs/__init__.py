"""The verbs: new, add, update and diff. Short functions over the engine; they never import each other."""
