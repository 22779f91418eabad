"""Front doors shaped like other libraries, running on integrad's engine.

- :mod:`integrad.compat.captum`: ``IntegratedGradients``, ``LayerIntegratedGradients`` and
  ``NoiseTunnel`` with Captum's signatures and return conventions;
- :mod:`integrad.compat.alibi`: alibi's ``IntegratedGradients(...).explain(X)`` and its
  explanation layout, for torch and Keras 3 models;
- :mod:`integrad.compat.keras`: Keras 3 models (``KERAS_BACKEND=torch``) in integrad's
  front ends.

Switching is one import: ``from captum.attr import IntegratedGradients`` becomes
``from integrad.compat.captum import IntegratedGradients``. Neither Captum nor alibi is
imported here.
"""
