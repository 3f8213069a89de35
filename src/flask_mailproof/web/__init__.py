"""The HTML side: forms, views and the ``confirmed_required`` gate."""
